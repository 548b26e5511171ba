import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { startEmulator, type Emulator } from './emulator/emulator';

const run = promisify(execFile);

/** A forward proxy on loopback that records what passed through it (CONNECT tunnels and plain requests). */
async function startProxy() {
	const seen: string[] = [];
	const server: Server = createServer((req, res) => {
		seen.push(`${req.method} ${req.url}`);
		const target = new URL(req.url!);
		const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
			res.writeHead(answer.statusCode!, answer.headers);
			answer.pipe(res);
		});
		req.pipe(upstream);
	});
	server.on('connect', (req, socket, head) => {
		seen.push(`CONNECT ${req.url}`);
		const [host, port] = req.url!.split(':');
		const upstream = connect(Number(port), host, () => {
			socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			upstream.write(head);
			upstream.pipe(socket);
			socket.pipe(upstream);
		});
		upstream.on('error', () => socket.destroy());
		socket.on('error', () => upstream.destroy());
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

let emulator: Emulator;
let proxy: Awaited<ReturnType<typeof startProxy>>;

before(async () => {
	emulator = await startEmulator();
	proxy = await startProxy();
});
after(async () => {
	await emulator.close();
	await proxy.close();
});

/** The client in a process of its own, since the shared connection pool reads the proxy variables once. */
async function getTaskInChildProcess(env: Record<string, string>): Promise<string> {
	const script = `
		const { OversightClient } = require(${JSON.stringify(join(__dirname, '..', 'nodes', 'shared', 'oversight', 'client.js'))});
		new OversightClient({ apiKey: ${JSON.stringify(emulator.apiKey)}, baseUrl: ${JSON.stringify(emulator.baseUrl)} })
			.getTask('no-such-task')
			.then(() => console.log('found'), (error) => console.log(error.details.status));
	`;
	const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/_proxy$/i.test(name)));
	const { stdout } = await run(process.execPath, ['-e', script], { env: { ...clean, ...env } });
	return stdout.trim();
}

describe('proxy variables', () => {
	it('sends API requests through HTTP_PROXY', async () => {
		assert.equal(await getTaskInChildProcess({ HTTP_PROXY: proxy.url }), '404');
		const host = new URL(emulator.baseUrl).host;
		assert.ok(
			proxy.seen.some((line) => line === `CONNECT ${host}` || line.startsWith(`GET ${emulator.baseUrl}/v1/tasks/`)),
			`the proxy saw: ${proxy.seen.join(', ')}`,
		);
	});

	it('goes direct for hosts in NO_PROXY', async () => {
		proxy.seen.length = 0;
		assert.equal(await getTaskInChildProcess({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }), '404');
		assert.deepEqual(proxy.seen, []);
	});
});
