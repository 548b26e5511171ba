import type { Dispatcher } from 'undici';

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * undici is loaded on the first request, not with the node files: n8n loads every installed node
 * when it starts, and undici alone took about 150 ms of that (bench/RESULTS.md, package cost).
 */
export const loadUndici = () => import('undici');

let shared: Promise<Dispatcher> | undefined;

/**
 * One keep-alive connection pool per origin for the whole n8n process, so items and executions
 * reuse connections. HTTP_PROXY, HTTPS_PROXY and NO_PROXY are read when it is first used.
 */
export function sharedDispatcher(): Promise<Dispatcher> {
	shared ??= loadUndici().then(
		({ EnvHttpProxyAgent }) =>
			new EnvHttpProxyAgent({
				connect: { timeout: CONNECT_TIMEOUT_MS },
				connections: 32,
				keepAliveTimeout: 10_000,
				keepAliveMaxTimeout: 60_000,
			}),
	);
	return shared;
}
