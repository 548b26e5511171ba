import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { verifySignature, SIGNATURE_HEADER } from '../nodes/shared/signature';
import { startEmulator, type Emulator, type EmulatorOptions } from './emulator/emulator';

const KEY = 'emulator-api-key';
const CONFIG = 'e3404e84-db35-43a4-9144-d3588a4beb28';
const SECRET = 'emulator-webhook-secret';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** Long enough that no task completes by itself during a test. */
const NEVER = 60_000;

async function start(t: TestContext, options: EmulatorOptions = {}): Promise<Emulator> {
	const emulator = await startEmulator({ reviewDelayMs: NEVER, ...options });
	t.after(() => emulator.close());
	return emulator;
}

function call(
	emulator: Emulator,
	method: string,
	path: string,
	body?: unknown,
	headers: Record<string, string> = { 'x-api-key': KEY },
): Promise<Response> {
	return fetch(emulator.baseUrl + path, {
		method,
		headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
	});
}

interface Ticket {
	media_upload_url: string;
	media_key: string;
	expires_at: string;
}

async function ticketFor(emulator: Emulator, fileName = 'photo.jpg', contentType = 'image/jpeg', configurationId = CONFIG) {
	const response = await call(emulator, 'POST', '/v1/media', {
		configuration_id: configurationId,
		file_name: fileName,
		content_type: contentType,
	});
	assert.equal(response.status, 200);
	return (await response.json()) as Ticket;
}

function put(url: string, bytes: Buffer, contentType = 'image/jpeg'): Promise<Response> {
	return fetch(url, { method: 'PUT', headers: { 'content-type': contentType }, body: bytes });
}

async function uploadedMediaKey(emulator: Emulator): Promise<string> {
	const ticket = await ticketFor(emulator);
	assert.equal((await put(ticket.media_upload_url, Buffer.from('jpeg bytes'))).status, 200);
	return ticket.media_key;
}

async function createTask(emulator: Emulator, fields: Record<string, unknown> = {}): Promise<string> {
	const media_key = await uploadedMediaKey(emulator);
	const response = await call(emulator, 'POST', '/v1/tasks', { configuration_id: CONFIG, media_key, ...fields });
	assert.equal(response.status, 200);
	return ((await response.json()) as { task_id: string }).task_id;
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error('condition not met in time');
		await sleep(5);
	}
}

interface Received {
	headers: IncomingMessage['headers'];
	body: Buffer;
	at: number;
}

/** A callback receiver; `answer` decides the status of each request (or hangs it by returning null). */
async function receiver(t: TestContext, answer: (index: number, received: Received) => number | null = () => 200) {
	const received: Received[] = [];
	const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const entry = { headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
		received.push(entry);
		const status = answer(received.length - 1, entry);
		if (status !== null) res.writeHead(status).end();
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.after(() => {
		server.closeAllConnections();
		server.close();
	});
	return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, received };
}

function xmlField(xml: string, name: string): string | undefined {
	return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

describe('authentication', () => {
	it('answers 401 on every API route unless x-api-key is one of the keys, and never records a key', async (t) => {
		const emulator = await start(t, { apiKeys: [KEY, 'second-key'] });
		const routes: Array<[string, string]> = [
			['POST', '/v1/media'],
			['POST', '/v1/tasks'],
			['GET', '/v1/tasks/some-id'],
			['GET', '/v1/tasks'],
		];
		for (const [method, path] of routes) {
			for (const headers of [{}, { 'x-api-key': 'wrong-key-value' }] as Array<Record<string, string>>) {
				const response = await call(emulator, method, path, method === 'POST' ? {} : undefined, headers);
				assert.equal(response.status, 401, `${method} ${path}`);
				assert.deepEqual(await response.json(), { message: 'Invalid API key' });
			}
		}
		const listed = await call(emulator, 'GET', '/v1/tasks', undefined, { 'x-api-key': 'second-key' });
		assert.equal(listed.status, 200);
		assert.deepEqual(await listed.json(), { tasks: [] });
		assert.equal(emulator.taskCount(), 0);

		assert.deepEqual(
			emulator.requests.slice(0, 2).map((entry) => entry.apiKeyPresent),
			[false, true],
		);
		assert.ok(emulator.requests.every((entry) => !('x-api-key' in entry.headers)));
		const state = JSON.stringify(emulator.snapshot());
		for (const secret of [KEY, 'second-key', 'wrong-key-value']) assert.ok(!state.includes(secret));
	});
});

describe('upload media (D1, D2)', () => {
	it('issues a presigned URL on another origin and accepts the PUT of the bytes', async (t) => {
		const emulator = await start(t);
		const before = Date.now();
		const ticket = await ticketFor(emulator, 'front door é.jpg');

		assert.notEqual(new URL(emulator.uploadOrigin).port, new URL(emulator.baseUrl).port);
		const encodedName = encodeURIComponent('front door é.jpg');
		assert.match(ticket.media_key, new RegExp(`^${emulator.uploadOrigin}/media/${UUID}/${encodedName}$`));
		const url = new URL(ticket.media_upload_url);
		assert.equal(url.origin + url.pathname, ticket.media_key);
		assert.equal(url.searchParams.get('X-Amz-Expires'), '900');
		assert.match(url.searchParams.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
		const expiresAt = Date.parse(ticket.expires_at);
		assert.ok(expiresAt >= Math.floor(before / 1000) * 1000 + 900_000 && expiresAt <= Date.now() + 900_000);

		const bytes = Buffer.from('not really a jpeg');
		const response = await put(ticket.media_upload_url, bytes);
		assert.equal(response.status, 200);
		assert.equal(await response.text(), '');
		assert.equal(response.headers.get('etag'), `"${createHash('md5').update(bytes).digest('hex')}"`);

		const upload = emulator.uploads.get(ticket.media_key);
		assert.ok(upload);
		assert.equal(upload.size, bytes.length);
		assert.equal(upload.sha256, createHash('sha256').update(bytes).digest('hex'));
		assert.equal(upload.contentType, 'image/jpeg');
		assert.equal(upload.contentLengthHeader, String(bytes.length));
		assert.equal(upload.transferEncoding, undefined);
		assert.equal(upload.apiKeyHeaderReceived, false);
		assert.deepEqual(upload.bytes, bytes);
	});

	it('streams a chunked upload: hashes every byte, keeps none above keepBytesUpTo, notes an API key', async (t) => {
		const emulator = await start(t, { keepBytesUpTo: 16 });
		const ticket = await ticketFor(emulator, 'clip.mp4', 'video/mp4');
		const chunk = Buffer.alloc(64 * 1024, 7);
		const status = await new Promise<number | undefined>((resolve, reject) => {
			const req = request(ticket.media_upload_url, {
				method: 'PUT',
				headers: { 'content-type': 'video/mp4', 'x-api-key': KEY },
			});
			req.on('response', (res) => {
				res.resume();
				resolve(res.statusCode);
			});
			req.on('error', reject);
			for (let i = 0; i < 4; i++) req.write(chunk);
			req.end();
		});
		assert.equal(status, 200);

		const upload = emulator.uploads.get(ticket.media_key);
		assert.ok(upload);
		assert.equal(upload.size, 4 * chunk.length);
		const hash = createHash('sha256');
		for (let i = 0; i < 4; i++) hash.update(chunk);
		assert.equal(upload.sha256, hash.digest('hex'));
		assert.equal(upload.transferEncoding, 'chunked');
		assert.equal(upload.contentLengthHeader, undefined);
		assert.equal(upload.apiKeyHeaderReceived, true);
		assert.equal(upload.bytes, undefined);
	});

	it('lets Node refuse a body shorter than its Content-Length, and records no upload', async (t) => {
		const emulator = await start(t);
		const url = new URL((await ticketFor(emulator)).media_upload_url);
		const socket = connect(Number(url.port), url.hostname);
		const answer = await new Promise<string>((resolve) => {
			let text = '';
			socket.on('data', (data) => (text += data.toString()));
			socket.on('close', () => resolve(text));
			socket.end(
				`PUT ${url.pathname}${url.search} HTTP/1.1\r\nhost: x\r\ncontent-type: image/jpeg\r\ncontent-length: 10\r\n\r\nabcde`,
			);
		});
		assert.match(answer, /^HTTP\/1\.1 400 /);
		assert.equal(emulator.uploads.size, 0);
	});

	it('answers 400 naming the field for an invalid body, and 413 above 1 MiB', async (t) => {
		const emulator = await start(t, { configurationIds: [CONFIG] });
		const valid = { configuration_id: CONFIG, file_name: 'a.jpg', content_type: 'image/jpeg' };
		const cases: Array<[unknown, RegExp]> = [
			[{ ...valid, configuration_id: undefined }, /configuration_id/],
			[{ ...valid, file_name: '' }, /file_name/],
			[{ ...valid, content_type: 42 }, /content_type/],
			[{ ...valid, content_type: 'jpeg' }, /content_type/],
			[{ ...valid, file_name: '..' }, /file_name/],
			[{ ...valid, configuration_id: 'not-mine' }, /configuration_id/],
			[[valid], /JSON object/],
			['{"configuration_id": ', /not valid JSON/],
		];
		for (const [body, pattern] of cases) {
			const response = await call(emulator, 'POST', '/v1/media', body);
			assert.equal(response.status, 400, JSON.stringify(body));
			assert.match(((await response.json()) as { message: string }).message, pattern);
		}
		const huge = await call(emulator, 'POST', '/v1/media', JSON.stringify({ ...valid, padding: 'x'.repeat(1.5 * 1024 * 1024) }));
		assert.equal(huge.status, 413);
		assert.equal((await call(emulator, 'POST', '/v1/media', valid)).status, 200);
	});

	it('refuses a PUT with another content type or a forged signature (echoing it), expired, unsigned or refused', async (t) => {
		const emulator = await start(t);
		const ticket = await ticketFor(emulator);
		const signature = new URL(ticket.media_upload_url).searchParams.get('X-Amz-Signature') ?? '';

		const mismatch = await put(ticket.media_upload_url, Buffer.from('x'), 'image/png');
		assert.equal(mismatch.status, 403);
		assert.equal(mismatch.headers.get('content-type'), 'application/xml');
		const xml = await mismatch.text();
		assert.match(xml, /^<\?xml /);
		assert.equal(xmlField(xml, 'Code'), 'SignatureDoesNotMatch');
		assert.equal(xmlField(xml, 'SignatureProvided'), signature);
		assert.match(xmlField(xml, 'StringToSign') ?? '', /\nimage\/png\n/);

		const forgedUrl = new URL(ticket.media_upload_url);
		forgedUrl.searchParams.set('X-Amz-Signature', 'f'.repeat(64));
		const forged = await put(forgedUrl.href, Buffer.from('x'));
		assert.equal(xmlField(await forged.text(), 'SignatureProvided'), 'f'.repeat(64));
		assert.equal(forged.status, 403);

		const unsigned = await put(ticket.media_key, Buffer.from('x'));
		assert.equal(unsigned.status, 403);
		assert.equal(xmlField(await unsigned.text(), 'Code'), 'AccessDenied');

		emulator.knobs.uploadUrlTtlSeconds = 0;
		const expiredTicket = await ticketFor(emulator);
		const expired = await put(expiredTicket.media_upload_url, Buffer.from('x'));
		assert.equal(expired.status, 403);
		const expiredXml = await expired.text();
		assert.equal(xmlField(expiredXml, 'Code'), 'AccessDenied');
		assert.equal(xmlField(expiredXml, 'Message'), 'Request has expired');

		emulator.knobs.refuseUploads = true;
		const refused = await put(ticket.media_upload_url, Buffer.from('x'));
		assert.equal(refused.status, 403);
		assert.equal(xmlField(await refused.text(), 'Code'), 'AccessDenied');

		assert.equal(emulator.uploads.size, 0);
		const task = await call(emulator, 'POST', '/v1/tasks', { configuration_id: CONFIG, media_key: ticket.media_key });
		assert.equal(task.status, 400);
		assert.match(((await task.json()) as { message: string }).message, /no uploaded file/);
	});
});

describe('tasks (D4, D5)', () => {
	it('creates a task only for media issued for the same configuration and uploaded', async (t) => {
		const emulator = await start(t);
		const submit = (body: unknown) => call(emulator, 'POST', '/v1/tasks', body);
		const otherTicket = await ticketFor(emulator, 'b.jpg', 'image/jpeg', 'another-configuration');
		await put(otherTicket.media_upload_url, Buffer.from('b'));
		const cases: Array<[Record<string, unknown>, RegExp]> = [
			[{ configuration_id: CONFIG, media_key: `${emulator.uploadOrigin}/media/nothing.jpg` }, /not issued/],
			[{ configuration_id: CONFIG, media_key: otherTicket.media_key }, /another configuration_id/],
			[{ configuration_id: CONFIG, media_key: (await ticketFor(emulator)).media_key }, /no uploaded file/],
		];
		for (const [body, pattern] of cases) {
			const response = await submit(body);
			assert.equal(response.status, 400);
			assert.match(((await response.json()) as { message: string }).message, pattern);
		}
		assert.equal(emulator.taskCount(), 0);

		const media_key = await uploadedMediaKey(emulator);
		const body = { configuration_id: CONFIG, media_key, media_type: 'image', not_documented: { kept: true } };
		const response = await submit(body);
		assert.equal(response.status, 200);
		const { task_id } = (await response.json()) as { task_id: string };
		assert.match(task_id, new RegExp(`^${UUID}$`));
		assert.deepEqual(emulator.tasks.get(task_id)?.body, body);
		assert.equal(emulator.tasks.get(task_id)?.state, 'pending');
	});

	it('validates every documented field and names it', async (t) => {
		const emulator = await start(t);
		const base = { configuration_id: CONFIG, media_key: 'photos/cat.jpg', bucket_id: 'bucket-1' };
		const cases: Array<[Record<string, unknown>, RegExp]> = [
			[{ ...base, configuration_id: '' }, /configuration_id/],
			[{ ...base, media_key: undefined }, /media_key/],
			[{ ...base, media_type: 'audio' }, /media_type/],
			[{ ...base, media_type: 'video' }, /images only/],
			[{ ...base, bucket_id: 7 }, /bucket_id/],
			[{ ...base, callback_url: 'ftp://example.com/hook' }, /callback_url/],
			[{ ...base, callback_url: 'not a url' }, /callback_url/],
			[{ ...base, tags: { value: 'x' } }, /tags/],
			[{ ...base, tags: [{ value: 'Pothole', confidence_score: 1.5 }] }, /tags\[0\]\.confidence_score/],
			[{ ...base, tags: [{ value: 3, confidence_score: 0.5 }] }, /tags\[0\]\.value/],
			[{ ...base, context_metadata: [{ key: 'session', value: 12345 }] }, /context_metadata\[0\]/],
			[{ ...base, model_metadata: ['llama'] }, /model_metadata/],
			[{ ...base, inferences: { external_id: 'x' } }, /inferences/],
		];
		for (const [body, pattern] of cases) {
			const response = await call(emulator, 'POST', '/v1/tasks', body);
			assert.equal(response.status, 400, JSON.stringify(body));
			assert.match(((await response.json()) as { message: string }).message, pattern);
		}
		const documented = {
			...base,
			media_type: 'image',
			callback_url: 'https://example.com/callback',
			tags: [{ value: 'Pothole', confidence_score: 0.8 }],
			context_metadata: [{ key: 'session_uid', value: '12345' }],
			model_metadata: { name: 'llama' },
		};
		assert.equal((await call(emulator, 'POST', '/v1/tasks', documented)).status, 200);
		assert.equal(emulator.taskCount(), 1);
	});

	it('counts a task for the same configuration, media and bucket as a duplicate', async (t) => {
		const emulator = await start(t);
		const media_key = await uploadedMediaKey(emulator);
		const bodies = [
			{ configuration_id: CONFIG, media_key },
			{ configuration_id: CONFIG, media_key, tags: [] },
			{ configuration_id: CONFIG, media_key: 'photos/cat.jpg', bucket_id: 'bucket-1' },
			{ configuration_id: CONFIG, media_key: 'photos/cat.jpg', bucket_id: 'bucket-2' },
			{ configuration_id: CONFIG, media_key: 'photos/cat.jpg', bucket_id: 'bucket-1' },
		];
		for (const body of bodies) assert.equal((await call(emulator, 'POST', '/v1/tasks', body)).status, 200);
		assert.equal(emulator.taskCount(), 5);
		assert.equal(emulator.duplicateTaskCount(), 2);
	});

	it('reports pending, then completed with the submitted inferences reviewed', async (t) => {
		const emulator = await start(t);
		const inference = { external_id: 'inf-1', classes: [{ class: 'pothole', confidence_score: 0.4 }], bbox: [[1, 2, 3, 4]] };
		const id = await createTask(emulator, { inferences: [inference] });
		const read = async (taskId: string) => {
			const response = await call(emulator, 'GET', `/v1/tasks/${encodeURIComponent(taskId)}`);
			assert.equal(response.status, 200);
			return (await response.json()) as Record<string, unknown>;
		};
		assert.deepEqual(await read(id), { task_id: id, state: 'pending', updated_inferences: null });

		await emulator.completeTask(id);
		assert.deepEqual(await read(id), {
			task_id: id,
			state: 'completed',
			updated_inferences: {
				inferences: [{ ...inference, classes: [{ class: 'pothole', confidence_score: 1 }], reviewed: true }],
			},
		});
		const task = emulator.tasks.get(id);
		assert.ok(task?.completedAt !== null && task?.completedAt !== undefined && task.completedAt >= task.createdAt);

		const bare = await createTask(emulator);
		await emulator.completeTask(bare);
		const generated = await read(bare);
		const [only, ...rest] = (generated.updated_inferences as { inferences: Array<Record<string, unknown>> }).inferences;
		assert.equal(rest.length, 0);
		assert.match(only.external_id as string, new RegExp(`^${UUID}$`));
		assert.deepEqual(only, { ...only, classes: [{ class: 'reviewed', confidence_score: 1 }], bbox: [[1, 1, 10, 10]], mask: [], polygon: [] });
		assert.deepEqual(await read(bare), generated);

		const listed = await call(emulator, 'GET', '/v1/tasks');
		assert.deepEqual(await listed.json(), { tasks: [id, bare] });
	});

	it('completes a task by itself after reviewDelayMs', async (t) => {
		const emulator = await start(t, { reviewDelayMs: 30 });
		const id = await createTask(emulator);
		assert.equal(emulator.tasks.get(id)?.state, 'pending');
		await until(() => emulator.tasks.get(id)?.state === 'completed');
	});

	it('answers 404 for an unknown id, decoding the path segment and recording it raw', async (t) => {
		const emulator = await start(t);
		for (const rawId of ['abc%2Fdef', '%E0%A4%A', 'nope']) {
			const response = await call(emulator, 'GET', `/v1/tasks/${rawId}`);
			assert.equal(response.status, 404);
			assert.deepEqual(await response.json(), { message: 'Task not found' });
		}
		assert.deepEqual(
			emulator.requests.map((entry) => entry.rawPath),
			['/v1/tasks/abc%2Fdef', '/v1/tasks/%E0%A4%A', '/v1/tasks/nope'],
		);
	});
});

describe('callbacks (D6)', () => {
	it('POSTs the signed Task Status to callback_url when the review completes', async (t) => {
		const hook = await receiver(t);
		const emulator = await start(t, { reviewDelayMs: 20 });
		const id = await createTask(emulator, { callback_url: hook.url });
		await until(() => hook.received.length === 1);

		const [delivery] = hook.received;
		assert.equal(delivery.headers['content-type'], 'application/json');
		const verdict = verifySignature({ header: delivery.headers[SIGNATURE_HEADER], rawBody: delivery.body, secret: SECRET });
		assert.equal(verdict.ok, true);
		const status = await (await call(emulator, 'GET', `/v1/tasks/${id}`)).json();
		assert.deepEqual(JSON.parse(delivery.body.toString('utf8')), status);

		await until(() => emulator.callbackDeliveries[0]?.status !== null);
		const [recorded] = emulator.callbackDeliveries;
		assert.deepEqual(
			{ ...recorded, at: 0 },
			{
				taskId: id,
				url: hook.url,
				attempt: 1,
				at: 0,
				status: 200,
				error: null,
				delivered: true,
				body: delivery.body.toString('utf8'),
				header: delivery.headers[SIGNATURE_HEADER],
			},
		);
	});

	it('retries after each delay on non-200 answers, re-signing each time, then gives up', async (t) => {
		const hook = await receiver(t, () => 500);
		const emulator = await start(t, { callbackRetryDelaysMs: [20, 40, 60], webhookSecret: 'other-secret' });
		const id = await createTask(emulator, { callback_url: hook.url });
		await emulator.completeTask(id);
		await until(() => emulator.callbackDeliveries.filter((entry) => entry.status !== null).length === 4);
		await sleep(100);

		assert.equal(hook.received.length, 4);
		assert.deepEqual(
			emulator.callbackDeliveries.map(({ attempt, status, delivered }) => ({ attempt, status, delivered })),
			[1, 2, 3, 4].map((attempt) => ({ attempt, status: 500, delivered: false })),
		);
		[20, 40, 60].forEach((delay, index) => {
			assert.ok(hook.received[index + 1].at - hook.received[index].at >= delay - 2, `gap before retry ${index + 1}`);
		});
		for (const delivery of hook.received) {
			const verdict = verifySignature({ header: delivery.headers[SIGNATURE_HEADER], rawBody: delivery.body, secret: 'other-secret' });
			assert.equal(verdict.ok, true);
		}
	});

	it('stops retrying at the first 200, and counts a slow answer as a failure', async (t) => {
		const hook = await receiver(t, (index) => (index === 0 ? null : index === 1 ? 503 : 200));
		const emulator = await start(t, { callbackRetryDelaysMs: [10, 10, 10, 10], callbackTimeoutMs: 100 });
		const id = await createTask(emulator, { callback_url: hook.url });
		await emulator.completeTask(id);
		await until(() => emulator.callbackDeliveries.some((entry) => entry.delivered));
		await sleep(50);

		const attempts = emulator.callbackDeliveries;
		assert.equal(attempts.length, 3);
		assert.equal(attempts[0].status, null);
		assert.match(attempts[0].error ?? '', /no answer within 100 ms/);
		assert.deepEqual(
			attempts.slice(1).map(({ status, delivered }) => ({ status, delivered })),
			[
				{ status: 503, delivered: false },
				{ status: 200, delivered: true },
			],
		);
		assert.ok(attempts.every((entry) => entry.body === attempts[0].body));
	});

	it('sends forged callbacks for attack tests: wrong secret, stale, malformed or missing signature', async (t) => {
		const hook = await receiver(t, (_, received) => {
			const verdict = verifySignature({ header: received.headers[SIGNATURE_HEADER], rawBody: received.body, secret: SECRET });
			return verdict.ok ? 200 : 401;
		});
		const emulator = await start(t);
		const body = { task_id: 'forged', state: 'completed', updated_inferences: null };
		const cases: Array<[Parameters<Emulator['sendSignedCallback']>[2], number]> = [
			[undefined, 200],
			[{ secret: 'guessed' }, 401],
			[{ timestamp: Math.floor(Date.now() / 1000) - 3600 }, 401],
			[{ header: 't=1;v1=zz' }, 401],
			[{ header: null }, 401],
		];
		for (const [options, expected] of cases) {
			const answer = await emulator.sendSignedCallback(hook.url, body, options);
			assert.equal(answer.status, expected, JSON.stringify(options));
		}
		assert.equal(hook.received[0].body.toString('utf8'), JSON.stringify(body));
		assert.equal(hook.received[4].headers[SIGNATURE_HEADER], undefined);
		const raw = await emulator.sendSignedCallback(hook.url, '{"raw": true}');
		assert.equal(raw.status, 200);
		assert.equal(hook.received[5].body.toString('utf8'), '{"raw": true}');
		assert.equal(emulator.callbackDeliveries.length, 0);
	});
});

describe('rate limit and latency', () => {
	it('answers 429 above requestsPerSecond with Retry-After in the chosen form, on the API only', async (t) => {
		const emulator = await start(t);
		const ticket = await ticketFor(emulator);
		emulator.knobs.rateLimit = { requestsPerSecond: 2, retryAfter: 'seconds' };
		// Start at the beginning of a one-second window, so the burst below stays inside it.
		await sleep(1000 - (Date.now() % 1000) + 5);
		const windowEnd = Math.ceil(Date.now() / 1000) * 1000;

		const statuses = [];
		for (let i = 0; i < 2; i++) statuses.push((await call(emulator, 'GET', '/v1/tasks')).status);
		assert.deepEqual(statuses, [200, 200]);
		const limited = await call(emulator, 'GET', '/v1/tasks');
		assert.equal(limited.status, 429);
		assert.equal(limited.headers.get('retry-after'), '1');
		assert.deepEqual(await limited.json(), { message: 'Too many requests' });

		emulator.knobs.rateLimit.retryAfter = 'http-date';
		const dated = await call(emulator, 'POST', '/v1/tasks', {});
		assert.equal(dated.status, 429);
		assert.equal(Date.parse(dated.headers.get('retry-after') ?? ''), windowEnd);

		emulator.knobs.rateLimit.retryAfter = 'none';
		const bare = await call(emulator, 'GET', '/v1/tasks/x');
		assert.equal(bare.status, 429);
		assert.equal(bare.headers.get('retry-after'), null);

		assert.equal((await put(ticket.media_upload_url, Buffer.from('x'))).status, 200);
		assert.equal((await fetch(emulator.inspectionUrl)).status, 200);
		assert.ok(Date.now() < windowEnd, 'the burst left its window; the test machine is too slow');
	});

	it('holds every API answer back by latencyMs', async (t) => {
		const emulator = await start(t);
		emulator.knobs.latencyMs = 120;
		for (const headers of [{ 'x-api-key': KEY }, {}] as Array<Record<string, string>>) {
			const started = Date.now();
			await (await call(emulator, 'GET', '/v1/tasks', undefined, headers)).text();
			assert.ok(Date.now() - started >= 115);
		}
	});
});

describe('faults', () => {
	it('status: answers as told without processing, once per times, first match first', async (t) => {
		const emulator = await start(t);
		const media_key = await uploadedMediaKey(emulator);
		emulator.knobs.faults.push(
			{ route: 'POST /v1/tasks', times: 2, action: { kind: 'status', status: 503, retryAfter: '7' } },
			{ route: 'POST /v1/tasks', action: { kind: 'status', status: 500, body: 'oops', contentType: 'text/plain' } },
		);
		const submit = () => call(emulator, 'POST', '/v1/tasks', { configuration_id: CONFIG, media_key });
		for (let i = 0; i < 2; i++) {
			const response = await submit();
			assert.equal(response.status, 503);
			assert.equal(response.headers.get('retry-after'), '7');
			assert.deepEqual(await response.json(), { message: 'Injected 503' });
		}
		const custom = await submit();
		assert.equal(custom.status, 500);
		assert.equal(custom.headers.get('content-type'), 'text/plain');
		assert.equal(await custom.text(), 'oops');
		assert.equal(emulator.taskCount(), 0);
		assert.equal((await submit()).status, 200);
		assert.deepEqual(emulator.knobs.faults, []);
		assert.deepEqual(
			emulator.requests.slice(-4).map((entry) => entry.fault?.kind ?? null),
			['status', 'status', 'status', null],
		);
	});

	it('status on the upload host answers S3-style XML', async (t) => {
		const emulator = await start(t);
		const ticket = await ticketFor(emulator);
		emulator.knobs.faults.push({ route: 'PUT upload', action: { kind: 'status', status: 503, retryAfter: '1' } });
		const response = await put(ticket.media_upload_url, Buffer.from('x'));
		assert.equal(response.status, 503);
		assert.equal(response.headers.get('retry-after'), '1');
		assert.equal(xmlField(await response.text(), 'Message'), 'Injected 503');
		assert.equal(emulator.uploads.size, 0);
	});

	it('reset-before-processing drops the connection and creates nothing', async (t) => {
		const emulator = await start(t);
		const media_key = await uploadedMediaKey(emulator);
		emulator.knobs.faults.push({ route: 'POST /v1/tasks', action: { kind: 'reset-before-processing' } });
		await assert.rejects(call(emulator, 'POST', '/v1/tasks', { configuration_id: CONFIG, media_key }));
		assert.equal(emulator.taskCount(), 0);
		const entry = emulator.requests.at(-1);
		assert.equal(entry?.status, null);
		assert.equal(entry?.fault?.kind, 'reset-before-processing');
	});

	it('reset-after-processing creates the task, then drops the connection', async (t) => {
		const emulator = await start(t);
		const media_key = await uploadedMediaKey(emulator);
		emulator.knobs.faults.push({ route: 'POST /v1/tasks', action: { kind: 'reset-after-processing' } });
		await assert.rejects(call(emulator, 'POST', '/v1/tasks', { configuration_id: CONFIG, media_key }));
		assert.equal(emulator.taskCount(), 1);
	});

	it('reset-mid-upload drops the connection after afterBytes and records no upload', async (t) => {
		const emulator = await start(t);
		const ticket = await ticketFor(emulator);
		emulator.knobs.faults.push({ route: 'PUT upload', action: { kind: 'reset-mid-upload', afterBytes: 1000 } });
		await assert.rejects(put(ticket.media_upload_url, Buffer.alloc(512 * 1024)));
		assert.equal(emulator.uploads.size, 0);
		const retried = await put(ticket.media_upload_url, Buffer.alloc(512 * 1024));
		assert.equal(retried.status, 200);
		assert.equal(emulator.uploads.get(ticket.media_key)?.size, 512 * 1024);
	});

	it('delay answers normally, late', async (t) => {
		const emulator = await start(t);
		emulator.knobs.faults.push({ route: 'GET /v1/tasks', action: { kind: 'delay', ms: 150 } });
		const started = Date.now();
		const response = await call(emulator, 'GET', '/v1/tasks');
		assert.deepEqual(await response.json(), { tasks: [] });
		assert.ok(Date.now() - started >= 145);
	});

	it('truncated-json answers 200 with half of the real body, after processing', async (t) => {
		const emulator = await start(t);
		const media_key = await uploadedMediaKey(emulator);
		emulator.knobs.faults.push({ route: 'POST /v1/tasks', action: { kind: 'truncated-json' } });
		const response = await call(emulator, 'POST', '/v1/tasks', { configuration_id: CONFIG, media_key });
		assert.equal(response.status, 200);
		const text = await response.text();
		assert.equal(response.headers.get('content-length'), String(Buffer.byteLength(text)));
		const [id] = emulator.tasks.keys();
		const whole = JSON.stringify({ task_id: id });
		assert.equal(text, whole.slice(0, Math.floor(whole.length / 2)));
		assert.throws(() => JSON.parse(text));
	});

	it('html answers a proxy-style error page', async (t) => {
		const emulator = await start(t);
		emulator.knobs.faults.push({ route: 'POST /v1/media', action: { kind: 'html', status: 502 } });
		const response = await call(emulator, 'POST', '/v1/media', {});
		assert.equal(response.status, 502);
		assert.equal(response.headers.get('content-type'), 'text/html');
		assert.match(await response.text(), /<title>502 Bad Gateway<\/title>/);
	});

	it('unexpected-shape answers 200 with a body of another shape', async (t) => {
		const emulator = await start(t);
		const id = await createTask(emulator);
		emulator.knobs.faults.push({ route: 'GET /v1/tasks/:id', action: { kind: 'unexpected-shape' } });
		const response = await call(emulator, 'GET', `/v1/tasks/${id}`);
		assert.equal(response.status, 200);
		assert.deepEqual(await response.json(), { unexpected: true });
	});
});

describe('inspection and steering over HTTP', () => {
	it('serves state, merges knobs, completes tasks and resets, with no API key', async (t) => {
		const hook = await receiver(t);
		const emulator = await start(t);
		const control = (method: string, path: string, body?: unknown) => call(emulator, method, path, body, {});
		const ticket = await ticketFor(emulator);
		await put(ticket.media_upload_url, Buffer.from('jpeg'));
		const create = await call(emulator, 'POST', '/v1/tasks', {
			configuration_id: CONFIG,
			media_key: ticket.media_key,
			callback_url: hook.url,
		});
		const { task_id } = (await create.json()) as { task_id: string };

		const completed = await control('POST', `/_emulator/tasks/${task_id}/complete`);
		assert.equal(completed.status, 200);
		assert.equal(((await completed.json()) as { state: string }).state, 'completed');
		assert.equal(hook.received.length, 1);
		assert.equal((await control('POST', '/_emulator/tasks/unknown/complete')).status, 404);

		const state = (await (await control('GET', '/_emulator/state')).json()) as Record<string, unknown>;
		assert.equal(state.baseUrl, emulator.baseUrl);
		assert.equal(state.taskCount, 1);
		assert.equal(state.duplicateTaskCount, 0);
		assert.equal((state.tasks as Record<string, { state: string }>)[task_id].state, 'completed');
		const upload = (state.uploads as Record<string, Record<string, unknown>>)[ticket.media_key];
		assert.equal(upload.bytesKept, true);
		assert.equal(upload.bytes, undefined);
		assert.equal((state.callbackDeliveries as unknown[]).length, 1);
		assert.deepEqual(
			(state.requests as Array<{ method: string; host: string }>).map(({ method, host }) => `${method} ${host}`),
			['POST api', 'PUT upload', 'POST api'],
		);

		const knobs = await control('POST', '/_emulator/knobs', {
			latencyMs: 5,
			rateLimit: { requestsPerSecond: 100 },
			faults: [{ route: 'GET /v1/tasks', action: { kind: 'status', status: 502 } }],
		});
		assert.equal(knobs.status, 200);
		assert.equal(emulator.knobs.latencyMs, 5);
		assert.deepEqual(emulator.knobs.rateLimit, { requestsPerSecond: 100, retryAfter: 'seconds' });
		assert.equal(emulator.knobs.reviewDelayMs, NEVER);
		assert.equal((await call(emulator, 'GET', '/v1/tasks')).status, 502);

		for (const bad of [
			{ latencyMs: -1 },
			{ colour: 'blue' },
			{ faults: [{ route: 'POST /v1/tasks', action: { kind: 'reset-mid-upload', afterBytes: 1 } }] },
			{ faults: [{ route: 'GET /v1/nothing', action: { kind: 'unexpected-shape' } }] },
			{ rateLimit: { requestsPerSecond: 1, retryAfter: 'never' } },
		]) {
			const response = await control('POST', '/_emulator/knobs', bad);
			assert.equal(response.status, 400, JSON.stringify(bad));
		}
		assert.equal(emulator.knobs.latencyMs, 5);

		assert.equal((await control('POST', '/_emulator/reset')).status, 200);
		assert.equal(emulator.taskCount(), 0);
		assert.equal(emulator.uploads.size, 0);
		assert.deepEqual(emulator.requests, []);
		assert.deepEqual(emulator.knobs.faults, []);
		assert.equal(emulator.knobs.latencyMs, 0);
		const stale = await put(ticket.media_upload_url, Buffer.from('jpeg'));
		assert.equal(stale.status, 403, 'URLs issued before the reset are void');

		assert.equal((await control('GET', '/_emulator/nothing')).status, 404);
		assert.equal((await control('GET', '/_emulator/reset')).status, 405);
	});
});

describe('robustness', () => {
	it('answers 404 and 405 as JSON on the API and XML on the upload host', async (t) => {
		const emulator = await start(t);
		const unknown = await call(emulator, 'GET', '/v2/anything');
		assert.equal(unknown.status, 404);
		assert.deepEqual(await unknown.json(), { message: 'Not found' });
		for (const [method, path, allow] of [
			['DELETE', '/v1/tasks/x', 'GET'],
			['PUT', '/v1/tasks', 'GET, POST'],
			['GET', '/v1/media', 'POST'],
		]) {
			const response = await call(emulator, method, path);
			assert.equal(response.status, 405);
			assert.equal(response.headers.get('allow'), allow);
		}
		const upload = await fetch(`${emulator.uploadOrigin}/media/x/y.jpg`);
		assert.equal(upload.status, 405);
		assert.equal(xmlField(await upload.text(), 'Code'), 'MethodNotAllowed');
	});

	it('closes promptly despite idle connections, held answers, pending reviews and retries', async (t) => {
		const hook = await receiver(t, () => 500);
		const emulator = await startEmulator({ reviewDelayMs: NEVER, callbackRetryDelaysMs: [NEVER] });
		const id = await createTask(emulator, { callback_url: hook.url });
		await emulator.completeTask(id);
		const idle = connect(Number(new URL(emulator.baseUrl).port), '127.0.0.1');
		await new Promise((resolve) => idle.once('connect', resolve));
		emulator.knobs.latencyMs = NEVER;
		const held = call(emulator, 'GET', '/v1/tasks');
		await until(() => emulator.requests.length === 4);

		const started = Date.now();
		await emulator.close();
		assert.ok(Date.now() - started < 500);
		await assert.rejects(held);
		await new Promise((resolve) => (idle.destroyed ? resolve(undefined) : idle.once('close', resolve)));
	});
});
