import { EnvHttpProxyAgent, type Dispatcher } from 'undici';

const CONNECT_TIMEOUT_MS = 10_000;

let shared: Dispatcher | undefined;

/**
 * One keep-alive connection pool per origin for the whole n8n process, so items and executions
 * reuse connections. HTTP_PROXY, HTTPS_PROXY and NO_PROXY are read when it is first used.
 */
export function sharedDispatcher(): Dispatcher {
	shared ??= new EnvHttpProxyAgent({
		connect: { timeout: CONNECT_TIMEOUT_MS },
		connections: 32,
		keepAliveTimeout: 10_000,
		keepAliveMaxTimeout: 60_000,
	});
	return shared;
}
