import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';

import { OversightClient, type ClientOptions } from '../nodes/shared/oversight/client';
import { OversightRequestError } from '../nodes/shared/oversight/errors';
import { startEmulator, type Emulator } from './emulator/emulator';
import { sha256 } from './helpers/files';
import { unusedPort } from './helpers/ports';

const FAST_RETRY: ClientOptions['retry'] = { baseDelayMs: 5, maxDelayMs: 20, maxRetries: 3, maxRetryAfterMs: 1500 };

let emulator: Emulator;

before(async () => {
	emulator = await startEmulator({ reviewDelayMs: 60_000 });
});
after(async () => emulator.close());
afterEach(() => emulator.reset());

function client(options: ClientOptions & { apiKey?: string; baseUrl?: string } = {}) {
	const log: string[] = [];
	const instance = new OversightClient(
		{ apiKey: options.apiKey ?? emulator.apiKey, baseUrl: options.baseUrl ?? emulator.baseUrl },
		{ retry: FAST_RETRY, log: (line) => log.push(line), ...options },
	);
	return { client: instance, log };
}

function media(bytes: Buffer, contentType = 'image/png') {
	let opened = 0;
	return {
		body: { size: bytes.length, contentType, open: async () => (opened++, Readable.from([bytes])) },
		openCount: () => opened,
	};
}

async function uploaded(api: OversightClient, bytes = Buffer.from('fake png bytes'), contentType = 'image/png') {
	const ticket = await api.requestUploadUrl({ configuration_id: 'config-1', file_name: 'a.png', content_type: contentType });
	await api.uploadMedia(ticket.media_upload_url, media(bytes, contentType).body);
	return ticket;
}

async function failure(promise: Promise<unknown>): Promise<OversightRequestError> {
	const error = await promise.then(
		() => assert.fail('expected the call to fail'),
		(caught: unknown) => caught,
	);
	assert.ok(error instanceof OversightRequestError, `expected OversightRequestError, got ${String(error)}`);
	return error;
}

function countRequests(method: string, pathPrefix: string) {
	return emulator.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
}

describe('OversightClient against the emulator', () => {
	it('uploads bytes intact and creates and reads a task', async () => {
		const { client: api } = client();
		const bytes = Buffer.from('x'.repeat(10_000) + 'end');
		const ticket = await uploaded(api, bytes);
		const record = emulator.uploads.get(ticket.media_key);
		assert.ok(record, 'the upload host recorded the upload');
		assert.equal(record.sha256, sha256(bytes));
		assert.equal(record.contentLengthHeader, String(bytes.length));
		assert.equal(record.transferEncoding, undefined);
		assert.equal(record.contentType, 'image/png');
		assert.equal(record.apiKeyHeaderReceived, false, 'the API key never goes to the upload host');

		const task = await api.submitTask({ configuration_id: 'config-1', media_key: ticket.media_key, media_type: 'image' });
		assert.equal(typeof task.task_id, 'string');
		const status = await api.getTask(task.task_id as string);
		assert.equal(status.task_id, task.task_id);
		assert.equal(status.state, 'pending');
	});

	it('reports a refused API key with a hint and without echoing the key', async () => {
		const { client: api } = client({ apiKey: 'wrong-key-1234567' });
		const error = await failure(api.getTask('anything'));
		assert.equal(error.details.status, 401);
		assert.match(error.hint, /API key/);
		assert.ok(!JSON.stringify({ m: error.message, h: error.hint, d: error.details }).includes('wrong-key-1234567'));
		assert.equal(countRequests('GET', '/v1/tasks/'), 1, '401 is not retried');
	});

	it('says an unknown task id is unknown (404)', async () => {
		const { client: api } = client();
		const error = await failure(api.getTask('00000000-0000-0000-0000-000000000000'));
		assert.equal(error.details.status, 404);
		assert.equal(error.details.apiMessage, 'Task not found');
		assert.match(error.hint, /Task ID/);
	});

	it("passes the API's own message on a 400", async () => {
		const { client: api } = client();
		const error = await failure(api.submitTask({ configuration_id: 'config-1', media_key: 'never-issued' }));
		assert.equal(error.details.status, 400);
		assert.match(error.message, /media_key/);
		assert.equal(emulator.taskCount(), 0);
	});

	it('refuses a task answer without a state instead of passing it on as a task', async () => {
		emulator.knobs.faults.push({ route: 'GET /v1/tasks/:id', action: { kind: 'unexpected-shape' } });
		const error = await failure(client().client.getTask('some-task'));
		assert.match(error.message, /^Reading the task failed: CloudFactory answered HTTP 200 but the answer has no state$/);
		assert.equal(error.details.taskMayExist, false);
	});

	it('keeps task ids with path characters inside the path segment', async () => {
		const { client: api } = client();
		for (const id of ['../v1/media', 'a?b=c', 'x#y', 'a/b']) {
			await failure(api.getTask(id));
		}
		const paths = emulator.requests.filter((r) => r.method === 'GET').map((r) => r.rawPath);
		assert.deepEqual(paths, ['/v1/tasks/..%2Fv1%2Fmedia', '/v1/tasks/a%3Fb%3Dc', '/v1/tasks/x%23y', '/v1/tasks/a%2Fb']);
	});

	describe('retries (D8)', () => {
		it('retries a read on 5xx and succeeds', async () => {
			const { client: api, log } = client();
			const ticket = await uploaded(api);
			const { task_id: taskId } = await api.submitTask({ configuration_id: 'config-1', media_key: ticket.media_key });
			emulator.knobs.faults.push({ route: 'GET /v1/tasks/:id', times: 2, action: { kind: 'status', status: 502 } });
			const status = await api.getTask(taskId as string);
			assert.equal(status.task_id, taskId);
			assert.equal(countRequests('GET', '/v1/tasks/'), 3);
			assert.equal(log.length, 2);
			assert.ok(log.every((line) => line.includes('HTTP 502')));
		});

		it('gives up after maxRetries with the attempt count in the message', async () => {
			const { client: api } = client();
			emulator.knobs.faults.push({ route: 'GET /v1/tasks/:id', times: 10, action: { kind: 'status', status: 500 } });
			const error = await failure(api.getTask('some-task'));
			assert.equal(error.details.attempts, 4);
			assert.match(error.message, /after 4 attempts/);
			assert.equal(countRequests('GET', '/v1/tasks/'), 4);
		});

		it('honours Retry-After in seconds and as an HTTP date, capped', async () => {
			const { client: api, log } = client();
			emulator.knobs.faults.push(
				{ route: 'GET /v1/tasks/:id', action: { kind: 'status', status: 429, retryAfter: '1' } },
				{ route: 'GET /v1/tasks/:id', action: { kind: 'status', status: 429, retryAfter: new Date(Date.now() + 3_000).toUTCString() } },
				{ route: 'GET /v1/tasks/:id', action: { kind: 'status', status: 503, retryAfter: '3600' } },
			);
			await failure(api.getTask('unknown-task'));
			const delays = log.map((line) => Number(/in (\d+) ms/.exec(line)?.[1]));
			assert.equal(delays.length, 3);
			assert.ok(delays[0] >= 1000, `seconds form waited ${delays[0]} ms`);
			assert.ok(delays[1] >= 1000 && delays[1] <= 1500 + 2, `date form (about 2-3 s, capped at 1.5 s) waited ${delays[1]} ms`);
			assert.ok(delays[2] <= 1500 + 2, `a one-hour Retry-After is capped, waited ${delays[2]} ms`);
		});

		it('retries a read after a connection reset', async () => {
			const { client: api } = client();
			emulator.knobs.faults.push({ route: 'GET /v1/tasks/:id', action: { kind: 'reset-before-processing' } });
			const error = await failure(api.getTask('unknown-task'));
			assert.equal(error.details.status, 404, 'the second attempt reached the API');
			assert.equal(countRequests('GET', '/v1/tasks/'), 2);
		});

		it('retries a read that times out, then reports the timeout', async () => {
			// undici checks its timeouts about once a second, so the answer must come much later.
			const { client: api } = client({ responseTimeoutMs: 100, retry: { ...FAST_RETRY, maxRetries: 1 } });
			emulator.knobs.faults.push({ route: 'GET /v1/tasks/:id', times: 2, action: { kind: 'delay', ms: 2500 } });
			const error = await failure(api.getTask('unknown-task'));
			assert.equal(error.details.networkErrorCode, 'UND_ERR_HEADERS_TIMEOUT');
			assert.match(error.message, /no answer within the timeout/);
			assert.equal(error.details.attempts, 2);
		});

		it('retries the upload URL request', async () => {
			const { client: api } = client();
			emulator.knobs.faults.push({ route: 'POST /v1/media', action: { kind: 'reset-after-processing' } });
			const ticket = await api.requestUploadUrl({ configuration_id: 'c', file_name: 'f.png', content_type: 'image/png' });
			assert.ok(ticket.media_key);
			assert.equal(countRequests('POST', '/v1/media'), 2);
		});

		it('re-opens the file stream when an upload breaks half-way', async () => {
			const { client: api } = client();
			const ticket = await api.requestUploadUrl({ configuration_id: 'c', file_name: 'f.mp4', content_type: 'video/mp4' });
			const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
			const file = media(bytes, 'video/mp4');
			emulator.knobs.faults.push({ route: 'PUT upload', action: { kind: 'reset-mid-upload', afterBytes: 1024 * 1024 } });
			await api.uploadMedia(ticket.media_upload_url, file.body);
			assert.equal(file.openCount(), 2);
			assert.equal(emulator.uploads.get(ticket.media_key)?.sha256, sha256(bytes));
		});

		describe('POST /v1/tasks never creates a duplicate', () => {
			// Each case uploads its own media: afterEach resets the emulator.
			let mediaKey: string;
			const body = () => ({ configuration_id: 'config-1', media_key: mediaKey });

			it('retries 503 and 429, which mean "not processed"', async () => {
				mediaKey = (await uploaded(client().client)).media_key;
				emulator.knobs.faults.push(
					{ route: 'POST /v1/tasks', action: { kind: 'status', status: 503 } },
					{ route: 'POST /v1/tasks', action: { kind: 'status', status: 429, retryAfter: '0' } },
				);
				const task = await client().client.submitTask(body());
				assert.ok(task.task_id);
				assert.equal(countRequests('POST', '/v1/tasks'), 3);
				assert.equal(emulator.taskCount(), 1);
				assert.equal(emulator.duplicateTaskCount(), 0);
			});

			for (const status of [500, 502, 504]) {
				it(`does not retry ${status}: the task may exist`, async () => {
					mediaKey = (await uploaded(client().client)).media_key;
					emulator.knobs.faults.push({ route: 'POST /v1/tasks', action: { kind: 'status', status } });
					const error = await failure(client().client.submitTask(body()));
					assert.equal(error.details.status, status);
					assert.equal(error.details.taskMayExist, true);
					assert.match(error.hint, /may or may not exist/);
					assert.equal(countRequests('POST', '/v1/tasks'), 1);
				});
			}

			it('does not retry a reset after the request was processed', async () => {
				mediaKey = (await uploaded(client().client)).media_key;
				emulator.knobs.faults.push({ route: 'POST /v1/tasks', action: { kind: 'reset-after-processing' } });
				const error = await failure(client().client.submitTask(body()));
				assert.equal(error.details.taskMayExist, true);
				assert.equal(countRequests('POST', '/v1/tasks'), 1);
				assert.equal(emulator.taskCount(), 1, 'the emulator did create the task');
				assert.equal(emulator.duplicateTaskCount(), 0);
			});

			it('does not retry a 200 whose body cannot be read, and says the task may exist', async () => {
				mediaKey = (await uploaded(client().client)).media_key;
				emulator.knobs.faults.push({ route: 'POST /v1/tasks', action: { kind: 'truncated-json' } });
				const error = await failure(client().client.submitTask(body()));
				assert.match(error.message, /not valid JSON/);
				assert.equal(error.details.taskMayExist, true);
				assert.equal(emulator.taskCount(), 1);
			});

			it('refuses a 200 without task_id', async () => {
				mediaKey = (await uploaded(client().client)).media_key;
				emulator.knobs.faults.push({ route: 'POST /v1/tasks', action: { kind: 'unexpected-shape' } });
				const error = await failure(client().client.submitTask(body()));
				assert.match(error.message, /no task_id/);
				assert.equal(countRequests('POST', '/v1/tasks'), 1);
			});

			it('retries when the connection is refused (nothing was sent)', async () => {
				const port = await unusedPort();
				const { client: api, log } = client({ baseUrl: `http://127.0.0.1:${port}` });
				const error = await failure(api.submitTask({ configuration_id: 'c', media_key: 'm' }));
				assert.equal(error.details.networkErrorCode, 'ECONNREFUSED');
				assert.equal(error.details.taskMayExist, false);
				assert.equal(log.length, 3);
			});
		});
	});

	describe('upload host errors (D2)', () => {
		it('explains an expired URL and never shows its signature', async () => {
			const { client: api } = client();
			emulator.knobs.uploadUrlTtlSeconds = 0;
			const ticket = await api.requestUploadUrl({ configuration_id: 'c', file_name: 'f.png', content_type: 'image/png' });
			await new Promise((resolve) => setTimeout(resolve, 1100));
			const error = await failure(api.uploadMedia(ticket.media_upload_url, media(Buffer.from('abc')).body));
			assert.equal(error.details.status, 403);
			assert.match(error.message, /AccessDenied/);
			assert.match(error.hint, /expired/);
			const signature = new URL(ticket.media_upload_url).searchParams.get('X-Amz-Signature')!;
			assert.ok(!JSON.stringify({ m: error.message, h: error.hint, d: error.details }).includes(signature));
		});

		it('strips the echoed signature from a SignatureDoesNotMatch answer', async () => {
			const { client: api } = client();
			const ticket = await api.requestUploadUrl({ configuration_id: 'c', file_name: 'f.png', content_type: 'image/png' });
			const error = await failure(api.uploadMedia(ticket.media_upload_url, media(Buffer.from('abc'), 'image/jpeg').body));
			assert.equal(error.details.status, 403);
			assert.match(error.message, /SignatureDoesNotMatch/);
			const signature = new URL(ticket.media_upload_url).searchParams.get('X-Amz-Signature')!;
			assert.ok(!JSON.stringify({ m: error.message, d: error.details }).includes(signature));
		});

		it('reads the title of an HTML error page from a proxy', async () => {
			const { client: api } = client({ retry: { ...FAST_RETRY, maxRetries: 0 } });
			emulator.knobs.faults.push({ route: 'GET /v1/tasks/:id', action: { kind: 'html', status: 502 } });
			const error = await failure(api.getTask('t'));
			assert.match(error.message, /HTTP 502: 502 Bad Gateway/);
		});
	});
});
