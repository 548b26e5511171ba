import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import type { INodeExecutionData, NodeApiError } from 'n8n-workflow';

import { NODE_TYPE, runCredentialTestRequest, runWorkflow, shutdownEngine, useBinaryDataMode, type NodeSpec } from './harness/engine';
import { startEmulator, type Emulator } from './emulator/emulator';
import { scratchDir, sha256OfFile, writeTestFile } from './helpers/files';

let emulator: Emulator;
let imagePath: string;

before(async () => {
	emulator = await startEmulator({ reviewDelayMs: 60_000 });
	imagePath = await writeTestFile('photo.png', 256 * 1024);
});
after(async () => {
	shutdownEngine();
	await emulator.close();
});
afterEach(() => emulator.reset());

const credentials = () => ({ apiKey: emulator.apiKey, baseUrl: emulator.baseUrl, webhookSecret: '' });

const readFile = (filePath: string, mimeType = ''): NodeSpec => ({
	name: 'Read File',
	type: NODE_TYPE.readFile,
	parameters: { filePath, mimeType },
});
const upload = (parameters: Record<string, unknown> = {}, continueOnFail = false): NodeSpec => ({
	name: 'Upload',
	type: NODE_TYPE.uploadMedia,
	parameters: { configurationId: 'config-1', binaryPropertyName: 'data', ...parameters } as NodeSpec['parameters'],
	continueOnFail,
});
const submit = (parameters: Record<string, unknown> = {}, continueOnFail = false): NodeSpec => ({
	name: 'Submit',
	type: NODE_TYPE.submitTask,
	parameters: { configurationId: 'config-1', ...parameters } as NodeSpec['parameters'],
	continueOnFail,
});
const status = (parameters: Record<string, unknown> = {}, continueOnFail = false): NodeSpec => ({
	name: 'Status',
	type: NODE_TYPE.taskStatus,
	parameters: parameters as NodeSpec['parameters'],
	continueOnFail,
});

const items = (count: number, make: (index: number) => INodeExecutionData['json'] = () => ({})) =>
	Array.from({ length: count }, (_, index) => ({ json: make(index) }));

function apiRequests() {
	return emulator.requests.filter((request) => request.host === 'api' || request.host === 'upload');
}

/** Runs a workflow expected to stop on bad input and returns the node's error. */
async function inputError(nodes: NodeSpec[], input?: INodeExecutionData[]) {
	const run = await runWorkflow(nodes, { credentials: credentials(), input });
	assert.equal(run.status, 'error');
	// The engine stores a copy of the error's fields, not the instance.
	const error = run.error!;
	assert.equal(error.name, 'NodeOperationError', error.message);
	return error;
}

describe('nodes in n8n-core\'s engine', () => {
	it('Upload Media -> Submit Task -> Task Status with an image in filesystem binary mode', async () => {
		const run = await runWorkflow([readFile(imagePath), upload(), submit(), status()], { credentials: credentials() });
		assert.equal(run.status, 'success', run.error?.message);

		const [uploadedItem] = run.output('Upload');
		const json = uploadedItem.json;
		assert.equal(json.configuration_id, 'config-1');
		assert.equal(json.media_type, 'image');
		assert.equal(json.content_type, 'image/png');
		assert.equal(json.file_name, 'photo.png');
		assert.equal(json.file_size, 256 * 1024);
		assert.equal(json.media_upload_url, undefined, 'the presigned URL never reaches the output');
		assert.ok(uploadedItem.binary?.data, 'the input binary passes through');
		assert.deepEqual(uploadedItem.pairedItem, { item: 0 });

		const record = emulator.uploads.get(json.media_key as string)!;
		assert.equal(record.sha256, await sha256OfFile(imagePath));
		assert.equal(record.contentLengthHeader, String(256 * 1024));
		assert.equal(record.transferEncoding, undefined, 'no chunked encoding');

		const [task] = run.output('Submit');
		const [taskStatus] = run.output('Status');
		assert.equal(taskStatus.json.task_id, task.json.task_id);
		assert.equal(taskStatus.json.state, 'pending');
		const stored = emulator.tasks.get(task.json.task_id as string)!;
		assert.deepEqual(stored.body, { configuration_id: 'config-1', media_key: json.media_key, media_type: 'image' });
	});

	it('streams a 200 MiB video from n8n\'s binary store with Content-Length, bytes intact', async () => {
		const videoPath = await writeTestFile('clip.mp4', 200 * 1024 * 1024);
		const baseline = process.memoryUsage().rss;
		let peak = baseline;
		const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
		const run = await runWorkflow([readFile(videoPath), upload(), submit()], { credentials: credentials() });
		clearInterval(sampler);
		assert.equal(run.status, 'success', run.error?.message);
		const [uploadedItem] = run.output('Upload');
		assert.equal(uploadedItem.json.media_type, 'video');
		assert.equal(uploadedItem.json.content_type, 'video/mp4');
		const record = emulator.uploads.get(uploadedItem.json.media_key as string)!;
		assert.equal(record.size, 200 * 1024 * 1024);
		assert.equal(record.contentLengthHeader, String(200 * 1024 * 1024));
		assert.equal(record.transferEncoding, undefined);
		assert.equal(record.sha256, await sha256OfFile(videoPath));
		assert.equal(emulator.tasks.get(run.output('Submit')[0].json.task_id as string)?.body.media_type, 'video');
		// A figure for the notes, not a test: memory is measured properly in bench/.
		console.log(`# 200 MiB upload: peak RSS growth ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB (test process holds emulator too)`);
	});

	it('uploads from legacy in-memory binary mode too', async () => {
		await useBinaryDataMode('default');
		try {
			const run = await runWorkflow([readFile(imagePath), upload()], { credentials: credentials() });
			assert.equal(run.status, 'success', run.error?.message);
			const [item] = run.output('Upload');
			assert.equal(item.binary?.data.id, undefined, 'the binary is held in memory in this mode');
			assert.equal(emulator.uploads.get(item.json.media_key as string)?.sha256, await sha256OfFile(imagePath));
		} finally {
			await useBinaryDataMode('filesystem');
		}
	});

	it('takes the content type from the file name when the binary says octet-stream', async () => {
		const path = join(scratchDir, 'frame.jpg');
		writeFileSync(path, Buffer.from('jpeg-ish'));
		const run = await runWorkflow([readFile(path, 'application/octet-stream'), upload()], { credentials: credentials() });
		assert.equal(run.status, 'success', run.error?.message);
		assert.equal(run.output('Upload')[0].json.content_type, 'image/jpeg');
	});

	it('honours the file name, content type and media type overrides', async () => {
		const run = await runWorkflow(
			[readFile(imagePath), upload({ options: { fileName: 'renamed.webm', contentType: 'video/webm', mediaType: 'video' } })],
			{ credentials: credentials() },
		);
		assert.equal(run.status, 'success', run.error?.message);
		const { json } = run.output('Upload')[0];
		assert.deepEqual([json.file_name, json.content_type, json.media_type], ['renamed.webm', 'video/webm', 'video']);
		assert.equal(emulator.uploads.get(json.media_key as string)?.contentType, 'video/webm');
	});

	it('processes many items with bounded concurrency, in input order, each paired to its input', async () => {
		const count = 12;
		const run = await runWorkflow([readFile(imagePath), upload({ options: { concurrency: 3 } }), submit({ options: { concurrency: 3 } })], {
			credentials: credentials(),
			input: items(count, (index) => ({ index })),
		});
		assert.equal(run.status, 'success', run.error?.message);
		const uploads = run.output('Upload');
		const tasks = run.output('Submit');
		assert.equal(tasks.length, count);
		tasks.forEach((task, index) => assert.deepEqual(task.pairedItem, { item: index }));
		// Order: each task was created for the media key of the upload at the same position.
		tasks.forEach((task, index) =>
			assert.equal(emulator.tasks.get(task.json.task_id as string)?.body.media_key, uploads[index].json.media_key),
		);
		assert.equal(emulator.taskCount(), count);
		assert.equal(emulator.duplicateTaskCount(), 0);
	});

	it('sends tags, context metadata, model metadata, inferences and extra fields (D4)', async () => {
		const inferences = [{ external_id: 'inf-1', classes: [{ class: 'car', confidence_score: 0.4 }], bbox: [[1, 2, 3, 4]] }];
		const run = await runWorkflow(
			[
				submit({
					mediaSource: 'bucket',
					bucketId: 'bucket-1',
					mediaKey: 'folder/image_0001.jpg',
					mediaType: 'image',
					callbackUrl: 'https://n8n.example.com/webhook/abc/webhook',
					additionalFields: {
						tags: { tag: [{ value: 'Pothole', confidenceScore: 0.8 }] },
						contextMetadata: { entry: [{ key: 'session_uid', value: 12345 }, { key: 'camera', value: 'north' }] },
						modelMetadata: '{"name": "llama", "version": "3"}',
						inferences: JSON.stringify(inferences),
						extraBody: '{"priority": "high", "media_type": "image"}',
					},
				}),
			],
			{ credentials: credentials() },
		);
		assert.equal(run.status, 'success', run.error?.message);
		const body = emulator.tasks.get(run.output('Submit')[0].json.task_id as string)!.body;
		assert.deepEqual(body, {
			configuration_id: 'config-1',
			media_key: 'folder/image_0001.jpg',
			media_type: 'image',
			bucket_id: 'bucket-1',
			callback_url: 'https://n8n.example.com/webhook/abc/webhook',
			tags: [{ value: 'Pothole', confidence_score: 0.8 }],
			context_metadata: [
				{ key: 'session_uid', value: '12345' },
				{ key: 'camera', value: 'north' },
			],
			model_metadata: { name: 'llama', version: '3' },
			inferences,
			priority: 'high',
		});
	});

	it('continueOnFail: bad and failing items become error items with pairedItem, the rest go through', async () => {
		const input = [{ json: { task_id: 'missing-1' } }, { json: { task_id: '' } }, { json: {} }];
		const good = await runWorkflow([readFile(imagePath), upload(), submit()], { credentials: credentials() });
		input[2].json = { task_id: good.output('Submit')[0].json.task_id as string };
		const run = await runWorkflow([status({}, true)], { credentials: credentials(), input });
		assert.equal(run.status, 'success');
		const output = run.output('Status');
		assert.equal(output.length, 3);
		assert.deepEqual(output.map((item) => item.pairedItem), [{ item: 0 }, { item: 1 }, { item: 2 }]);
		assert.match(String(output[0].json.error), /Item 0: Reading the task failed with HTTP 404/);
		assert.equal(output[0].json.httpCode, '404');
		assert.match(String(output[1].json.error), /Item 1: Task ID is empty/);
		assert.equal(output[2].json.state, 'pending');
	});

	it('without continueOnFail an API error stops the node with a NodeApiError that carries a hint', async () => {
		const run = await runWorkflow([status({ taskId: 'no-such-task' })], { credentials: credentials() });
		assert.equal(run.status, 'error');
		assert.equal(run.error?.name, 'NodeApiError');
		assert.equal((run.error as NodeApiError).httpCode, '404');
		assert.match(run.error.message, /Item 0: Reading the task failed with HTTP 404: Task not found/);
		assert.match(String(run.error.description), /task_id that Submit Task outputs/);
	});

	it('a network failure keeps the item and our words in the message (n8n rewrites messages with error codes)', async () => {
		const run = await runWorkflow([status({ taskId: 't' })], {
			credentials: { ...credentials(), baseUrl: 'http://127.0.0.1:9' },
		});
		assert.equal(run.status, 'error');
		assert.match(run.error!.message, /^Item 0: Reading the task failed: the connection failed \(after 5 attempts\)$/);
		assert.match(String(run.error!.description), /ECONNREFUSED.*Check the Base URL/);
	});

	it('a wrong API key gives a clear error that does not contain the key', async () => {
		const run = await runWorkflow([status({ taskId: 't' })], {
			credentials: { ...credentials(), apiKey: 'SECRET-WRONG-KEY-42' },
		});
		assert.equal(run.status, 'error');
		assert.match(String(run.error?.description), /Check the API key/);
		assert.ok(!JSON.stringify(run.run.data).includes('SECRET-WRONG-KEY-42'));
	});

	describe('bad input is refused before any network call, naming the item and the field', () => {
		const cases: Array<{ name: string; nodes: () => NodeSpec[]; input?: () => INodeExecutionData[]; message: RegExp }> = [
			{ name: 'missing binary property', nodes: () => [upload({ binaryPropertyName: 'photo' })], message: /Item 0: Input Binary Field names the binary property "photo", but the item has no binary data/ },
			{ name: 'wrong binary property', nodes: () => [readFile(imagePath), upload({ binaryPropertyName: 'photo' })], message: /Item 0: Input Binary Field .* only "data"/ },
			{ name: 'empty file', nodes: () => [readFile(writeEmpty('empty.png')), upload()], message: /Item 0: Input Binary Field holds an empty file/ },
			{ name: 'unsupported MIME type', nodes: () => [readFile(writeSmall('notes.txt')), upload()], message: /Item 0: Media Type cannot be told from content type "text\/plain"/ },
			{ name: 'unknown file type', nodes: () => [readFile(writeSmall('blob.unknownext'), 'application/octet-stream'), upload()], message: /Item 0: Content Type cannot be told for "blob.unknownext"/ },
			{ name: 'empty configuration id', nodes: () => [readFile(imagePath), upload({ configurationId: '  ' })], message: /Item 0: Configuration ID is empty/ },
			{ name: 'empty media key', nodes: () => [submit({ mediaType: 'image' })], message: /Item 0: Media Key is empty/ },
			{ name: 'media type from upload missing', nodes: () => [submit({ mediaKey: 'k' })], message: /Item 0: Media Type is "From Upload Media", but the item's media_type is missing/ },
			{ name: 'video from a mounted bucket', nodes: () => [submit({ mediaSource: 'bucket', bucketId: 'b', mediaKey: 'k', mediaType: 'video' })], message: /Item 0: Media Type is video, but mounted buckets hold images only/ },
			{ name: 'empty bucket id', nodes: () => [submit({ mediaSource: 'bucket', bucketId: '={{ "" }}', mediaKey: 'k', mediaType: 'image' })], message: /Item 0: Bucket ID is empty/ },
			{ name: 'invalid callback URL', nodes: () => [submit({ mediaKey: 'k', mediaType: 'image', callbackUrl: 'not a url' })], message: /Item 0: Callback URL must be an http\(s\) URL/ },
			{ name: 'malformed inferences JSON', nodes: () => [submit({ mediaKey: 'k', mediaType: 'image', additionalFields: { inferences: '[{"a": 1,}]' } })], message: /Item 0: Model Inferences \(JSON\) is not valid JSON/ },
			{ name: 'inferences not an array', nodes: () => [submit({ mediaKey: 'k', mediaType: 'image', additionalFields: { inferences: '{"a": 1}' } })], message: /Item 0: Model Inferences \(JSON\) must be a JSON array, but it is an object/ },
			{ name: 'malformed model metadata JSON', nodes: () => [submit({ mediaKey: 'k', mediaType: 'image', additionalFields: { modelMetadata: '{name: llama}' } })], message: /Item 0: Model Metadata \(JSON\) is not valid JSON/ },
			{ name: 'extra body not an object', nodes: () => [submit({ mediaKey: 'k', mediaType: 'image', additionalFields: { extraBody: '[1]' } })], message: /Item 0: Extra Body Fields \(JSON\) must be a JSON object/ },
			{ name: 'confidence above 1', nodes: () => [submit({ mediaKey: 'k', mediaType: 'image', additionalFields: { tags: { tag: [{ value: 'a', confidenceScore: 1.5 }] } } })], message: /Item 0: Tags > Tag 1 has Confidence Score 1.5/ },
			{ name: 'non-numeric confidence', nodes: () => [submit({ mediaKey: 'k', mediaType: 'image', additionalFields: { tags: { tag: [{ value: 'a', confidenceScore: 'high' }] } } })], message: /Tags > Tag 1 has Confidence Score "high"/ },
			{ name: 'metadata value that is an object', nodes: () => [submit({ mediaKey: 'k', mediaType: 'image', additionalFields: { contextMetadata: { entry: [{ key: 'k', value: '={{ {"a": 1} }}' }] } } })], message: /Context Metadata > Entry 1 has a Value that is an object/ },
			{ name: 'empty task id', nodes: () => [status({ taskId: '={{ "  " }}' })], message: /Item 0: Task ID is empty/ },
			{ name: 'task id "..""', nodes: () => [status({ taskId: '..' })], message: /Item 0: Task ID "\.\." is not a task ID/ },
			{ name: 'task id that is an object', nodes: () => [status({ taskId: '={{ $json }}' })], message: /Item 0: Task ID must be text, but it is an object/ },
			{ name: 'concurrency out of range', nodes: () => [status({ taskId: 'x', options: { concurrency: 0 } })], message: /Concurrency must be a whole number from 1 to 32/ },
			{
				name: 'the bad item among good ones is named, and no good item is sent first',
				nodes: () => [status()],
				input: () => [{ json: { task_id: 'a' } }, { json: { task_id: 'b' } }, { json: { task_id: '' } }],
				message: /Item 2: Task ID is empty/,
			},
		];
		for (const testCase of cases) {
			it(testCase.name, async () => {
				const error = await inputError(testCase.nodes(), testCase.input?.());
				assert.match(error.message, testCase.message);
				assert.equal(apiRequests().length, 0, 'nothing was sent to CloudFactory');
			});
		}
	});

	describe('credential test (GET /v1/tasks through n8n-core\'s RoutingNode)', () => {
		it('passes for the emulator\'s key and creates nothing', async () => {
			assert.equal(await runCredentialTestRequest(credentials()), 200);
			const [request] = emulator.requests;
			assert.equal(request.method, 'GET');
			assert.equal(request.path, '/v1/tasks');
			assert.equal(request.apiKeyPresent, true, 'the authenticate block put the key in x-api-key');
			assert.equal(emulator.taskCount(), 0);
		});

		it('fails with 401 for a wrong key', async () => {
			assert.equal(await runCredentialTestRequest({ ...credentials(), apiKey: 'wrong' }), 401);
		});
	});
});

function writeEmpty(name: string): string {
	const path = join(scratchDir, name);
	writeFileSync(path, Buffer.alloc(0));
	return path;
}

function writeSmall(name: string): string {
	const path = join(scratchDir, name);
	writeFileSync(path, 'hello');
	return path;
}


