import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { INodeExecutionData } from 'n8n-workflow';

import { runWorkflow, type NodeSpec } from '../harness/engine';
import { scratchDir } from '../helpers/files';
import {
	assertPairedInOrder,
	credentialsFor,
	errorItems,
	nodeOutcome,
	readFileNode,
	short,
	statusNode,
	submitNode,
	uploadNode,
	type Env,
} from './env';
import type { Scope } from './report';

export interface BadInputCase {
	name: string;
	nodes: (env: Env, continueOnFail: boolean) => NodeSpec[];
	input?: INodeExecutionData[];
	/** Must name the item ("Item N") and the field by its display name. */
	message: RegExp;
}

function smallFile(name: string, bytes: string | Buffer): string {
	const path = join(scratchDir, name);
	writeFileSync(path, bytes);
	return path;
}

const upload = (parameters: Record<string, unknown>, file?: () => string, mimeType = '') => (env: Env, continueOnFail: boolean) => [
	readFileNode(file?.() ?? env.imagePath, mimeType),
	uploadNode(parameters, continueOnFail),
];
const submit = (parameters: Record<string, unknown>) => (_env: Env, continueOnFail: boolean) => [submitNode(parameters, continueOnFail)];
const fields = (additionalFields: Record<string, unknown>) => submit({ additionalFields });
const status = (taskId: unknown, options: Record<string, unknown> = {}) => (_env: Env, continueOnFail: boolean) => [
	statusNode({ taskId, options }, continueOnFail),
];
const tag = (value: unknown, confidenceScore: unknown) => ({ tags: { tag: [{ value, confidenceScore }] } });
const metadata = (key: unknown, value: unknown) => ({ contextMetadata: { entry: [{ key, value }] } });

export const badInputCases: BadInputCase[] = [
	{ name: 'Upload Media: Configuration ID empty', nodes: upload({ configurationId: '={{ $json.missing }}' }), message: /^Item 0: Configuration ID is empty$/ },
	{ name: 'Upload Media: Configuration ID an object', nodes: upload({ configurationId: '={{ {"id": 1} }}' }), message: /^Item 0: Configuration ID must be text, but it is an object$/ },
	{ name: 'Upload Media: Input Binary Field empty', nodes: upload({ binaryPropertyName: ' ' }), message: /^Item 0: Input Binary Field is empty$/ },
	{ name: 'Upload Media: Input Binary Field a boolean', nodes: upload({ binaryPropertyName: '={{ true }}' }), message: /^Item 0: Input Binary Field must be text, but it is a boolean$/ },
	{ name: 'Upload Media: missing binary property', nodes: upload({ binaryPropertyName: 'photo' }), message: /^Item 0: Input Binary Field names the binary property "photo", but the item has only "data"$/ },
	{ name: 'Upload Media: empty file', nodes: upload({}, () => smallFile('empty.png', Buffer.alloc(0))), message: /^Item 0: Input Binary Field holds an empty file \("empty.png"\)$/ },
	{ name: 'Upload Media: unsupported MIME type (text/plain)', nodes: upload({}, () => smallFile('notes.txt', 'hello')), message: /^Item 0: Media Type cannot be told from content type "text\/plain"/ },
	{ name: 'Upload Media: unknown file type', nodes: upload({}, () => smallFile('blob.unknownext', 'hello'), 'application/octet-stream'), message: /^Item 0: Content Type cannot be told for "blob.unknownext"$/ },
	{ name: 'Upload Media: Content Type override that is no MIME type', nodes: upload({ options: { contentType: 'image jpeg' } }), message: /^Item 0: Content Type "image jpeg" is not a MIME type$/ },
	{ name: 'Upload Media: Media Type override that is neither image nor video', nodes: upload({ options: { mediaType: 'audio' } }), message: /^Item 0: Media Type must be one of image, video, not "audio"$/ },
	{ name: 'Upload Media: Timeout of the wrong type', nodes: upload({ options: { timeout: 'soon' } }), message: /^Item 0: Timeout must be a whole number from 1 to 3600$/ },
	{ name: 'Submit Task: Configuration ID empty', nodes: submit({ configurationId: '={{ "" }}' }), message: /^Item 0: Configuration ID is empty$/ },
	{ name: 'Submit Task: Configuration ID an array', nodes: submit({ configurationId: '={{ [1, 2] }}' }), message: /^Item 0: Configuration ID must be text, but it is an array$/ },
	{ name: 'Submit Task: Media Key empty', nodes: submit({ mediaKey: '={{ $json.missing }}' }), message: /^Item 0: Media Key is empty$/ },
	{ name: 'Submit Task: Media Key an object', nodes: submit({ mediaKey: '={{ $json }}' }), message: /^Item 0: Media Key must be text, but it is an object$/ },
	{ name: 'Submit Task: Bucket ID empty (mounted bucket)', nodes: submit({ bucketId: '={{ "" }}' }), message: /^Item 0: Bucket ID is empty$/ },
	{ name: 'Submit Task: Media Type "From Upload Media" without an upload', nodes: submit({ mediaSource: 'upload', mediaType: 'fromUpload' }), message: /^Item 0: Media Type is "From Upload Media", but the item's media_type is missing$/ },
	{ name: 'Submit Task: Media Type neither image nor video', nodes: submit({ mediaType: 'audio' }), message: /^Item 0: Media Type must be one of image, video, not "audio"$/ },
	{ name: 'Submit Task: a video with mounted-bucket mode', nodes: submit({ mediaType: 'video' }), message: /^Item 0: Media Type is video, but mounted buckets hold images only$/ },
	{ name: 'Submit Task: invalid Callback URL (not a URL)', nodes: submit({ callbackUrl: 'not a url' }), message: /^Item 0: Callback URL must be an http\(s\) URL, not "not a url"$/ },
	{ name: 'Submit Task: invalid Callback URL (javascript:)', nodes: submit({ callbackUrl: 'javascript:alert(1)' }), message: /^Item 0: Callback URL must be an http\(s\) URL/ },
	{ name: 'Submit Task: malformed Model Inferences (JSON)', nodes: fields({ inferences: '[{"bbox": [1,2,3,4],}]' }), message: /^Item 0: Model Inferences \(JSON\) is not valid JSON: / },
	{ name: 'Submit Task: Model Inferences (JSON) not an array', nodes: fields({ inferences: '{"bbox": 1}' }), message: /^Item 0: Model Inferences \(JSON\) must be a JSON array, but it is an object$/ },
	{ name: 'Submit Task: malformed Model Metadata (JSON)', nodes: fields({ modelMetadata: "{'name': 'llama'}" }), message: /^Item 0: Model Metadata \(JSON\) is not valid JSON: / },
	{ name: 'Submit Task: Model Metadata (JSON) a string', nodes: fields({ modelMetadata: '"llama"' }), message: /^Item 0: Model Metadata \(JSON\) must be a JSON object, but it is a string$/ },
	{ name: 'Submit Task: malformed Extra Body Fields (JSON)', nodes: fields({ extraBody: '{"priority": high}' }), message: /^Item 0: Extra Body Fields \(JSON\) is not valid JSON: / },
	{ name: 'Submit Task: Extra Body Fields (JSON) an array', nodes: fields({ extraBody: '[1]' }), message: /^Item 0: Extra Body Fields \(JSON\) must be a JSON object, but it is an array$/ },
	{ name: 'Submit Task: tag confidence above 1', nodes: fields(tag('car', 1.5)), message: /^Item 0: Tags > Tag 1 has Confidence Score 1.5, which is not a number from 0 to 1$/ },
	{ name: 'Submit Task: tag confidence below 0', nodes: fields(tag('car', -0.1)), message: /^Item 0: Tags > Tag 1 has Confidence Score -0.1, which is not a number from 0 to 1$/ },
	{ name: 'Submit Task: tag confidence not numeric', nodes: fields(tag('car', 'high')), message: /^Item 0: Tags > Tag 1 has Confidence Score "high", which is not a number from 0 to 1$/ },
	{ name: 'Submit Task: tag confidence NaN', nodes: fields(tag('car', '={{ NaN }}')), message: /^Item 0: Tags > Tag 1 has Confidence Score .*, which is not a number from 0 to 1$/ },
	{ name: 'Submit Task: tag with an empty value', nodes: fields(tag(' ', 0.5)), message: /^Item 0: Tags > Tag 1 has an empty Value$/ },
	{ name: 'Submit Task: context metadata value an object', nodes: fields(metadata('camera', '={{ {"a": 1} }}')), message: /^Item 0: Context Metadata > Entry 1 has a Value that is an object; context metadata values must be text$/ },
	{ name: 'Submit Task: context metadata value an array', nodes: fields(metadata('camera', '={{ ["north"] }}')), message: /^Item 0: Context Metadata > Entry 1 has a Value that is an array; context metadata values must be text$/ },
	{ name: 'Submit Task: context metadata value null', nodes: fields(metadata('camera', '={{ null }}')), message: /^Item 0: Context Metadata > Entry 1 has a Value that is null; context metadata values must be text$/ },
	{ name: 'Submit Task: context metadata with an empty key', nodes: fields(metadata('', 'north')), message: /^Item 0: Context Metadata > Entry 1 has an empty Key$/ },
	{ name: 'Submit Task: Concurrency out of range', nodes: submit({ options: { concurrency: 33 } }), message: /^Item 0: Concurrency must be a whole number from 1 to 32$/ },
	{ name: 'Task Status: Task ID empty', nodes: status('={{ "  " }}'), message: /^Item 0: Task ID is empty$/ },
	{ name: 'Task Status: Task ID an object', nodes: status('={{ {"id": 1} }}'), message: /^Item 0: Task ID must be text, but it is an object$/ },
	{ name: 'Task Status: Task ID ".."', nodes: status('..'), message: /^Item 0: Task ID "\.\." is not a task ID$/ },
	{ name: 'Task Status: Task ID "."', nodes: status('.'), message: /^Item 0: Task ID "\." is not a task ID$/ },
	{ name: 'Task Status: Task ID with a line break', nodes: status('={{ "abc\\r\\nx-api-key: stolen" }}'), message: /^Item 0: Task ID .* is not a task ID$/ },
];

/** A refused item: the error names it, nothing reached the emulator, and continueOnFail keeps it. */
export async function runBadInputCase(env: Env, testCase: BadInputCase, scope: Scope): Promise<void> {
	const input = testCase.input ?? [{ json: { n: 0 } }];
	for (const continueOnFail of [false, true]) {
		env.emulator.reset();
		const run = await runWorkflow(testCase.nodes(env, continueOnFail), { credentials: credentialsFor(env), input });
		const nodeName = testCase.nodes(env, continueOnFail).at(-1)!.name;
		const seen = nodeOutcome(run, nodeName, scope);
		const failed = errorItems(seen.items);
		const requests = env.emulator.requests.length;
		const shown = seen.errorMessage ?? failed[0]?.message;
		scope.fact(`${continueOnFail ? 'on' : 'off'}: "${short(shown)}"; ${seen.items.length} output items; ${requests} requests`);
		assert.equal(requests, 0, 'nothing was sent to CloudFactory');
		if (continueOnFail) {
			assertPairedInOrder(seen.items, input.length);
			assert.equal(failed.length, 1);
			assert.match(failed[0].message, testCase.message);
		} else {
			assert.equal(run.error?.name, 'NodeOperationError', run.error?.message);
			assert.match(seen.errorMessage ?? '', testCase.message);
		}
	}
}

/** Path characters in a Task ID are sent encoded, inside the one path segment, never as a new path or query. */
export const pathCharacterTaskIds = ['../../v1/media', 'a?b=1', 'a#b', 'a/b', '%2e%2e', '..%2F..%2Fv1', ' spaced id '];

export async function runPathCharacterCase(env: Env, scope: Scope): Promise<void> {
	env.emulator.reset();
	const input = pathCharacterTaskIds.map((task_id) => ({ json: { task_id } }));
	const run = await runWorkflow([statusNode({ taskId: '={{ $json.task_id }}' }, true)], { credentials: credentialsFor(env), input });
	const seen = nodeOutcome(run, 'Status', scope);
	const paths = env.emulator.requests.map((request) => request.rawPath);
	scope.fact(`requested ${paths.join(' ')}`);
	scope.fact(`${errorItems(seen.items).length} error items, all HTTP 404 "unknown task"`);
	assertPairedInOrder(seen.items, input.length);
	const expected = pathCharacterTaskIds.map((id) => `/v1/tasks/${encodeURIComponent(id.trim())}`);
	assert.deepEqual([...paths].sort(), [...expected].sort(), 'each id stays one encoded path segment, with no query');
	for (const request of env.emulator.requests) assert.match(request.path, /^\/v1\/tasks\/[^/]+$/);
	errorItems(seen.items).forEach((item) => assert.match(item.message, new RegExp(`^Item ${item.index}: Reading the task failed with HTTP 404`)));
}

export const UNICODE_FILE_NAME = 'Straße_写真_😀 #1?.png';

export async function runUnicodeFileNameCase(env: Env, scope: Scope): Promise<void> {
	env.emulator.reset();
	const run = await runWorkflow([readFileNode(env.imagePath), uploadNode({ options: { fileName: UNICODE_FILE_NAME } }, false)], {
		credentials: credentialsFor(env),
		input: [{ json: {} }],
	});
	const seen = nodeOutcome(run, 'Upload', scope);
	const [item] = seen.items;
	const uploadPath = env.emulator.requests.find((request) => request.host === 'upload')?.path;
	scope.fact(`${run.status}; file_name ${JSON.stringify(item?.json.file_name)}; upload path ends ${uploadPath?.split('/').at(-1)}`);
	assert.equal(run.status, 'success');
	assert.equal(item.json.file_name, UNICODE_FILE_NAME);
	assert.equal(uploadPath?.split('/').at(-1), encodeURIComponent(UNICODE_FILE_NAME));
	assert.equal(env.emulator.uploads.get(item.json.media_key as string)?.size, (await import('node:fs')).statSync(env.imagePath).size);
}

const LONG = 'x'.repeat(100_000);

/** Long text in the body is sent intact; a Task ID too long for any URL is refused before sending. */
export async function runLongStringsCase(env: Env, scope: Scope): Promise<void> {
	env.emulator.reset();
	const body = await runWorkflow(
		[submitNode({ additionalFields: { ...metadata('note', LONG), ...tag(LONG, 0.5) } }, false)],
		{ credentials: credentialsFor(env), input: [{ json: { n: 0 } }] },
	);
	const bodySeen = nodeOutcome(body, 'Submit', scope);
	const task = env.emulator.tasks.get(bodySeen.items[0]?.json.task_id as string);
	const sent = task?.body as { context_metadata?: Array<{ value: string }>; tags?: Array<{ value: string }> } | undefined;
	scope.fact(`100,000-character metadata value and tag: ${body.status}, sent ${sent?.context_metadata?.[0].value.length} and ${sent?.tags?.[0].value.length} characters`);
	assert.equal(sent?.context_metadata?.[0].value, LONG);
	assert.equal(sent?.tags?.[0].value, LONG);

	env.emulator.reset();
	const id = await runWorkflow([statusNode({ taskId: LONG }, false)], { credentials: credentialsFor(env), input: [{ json: {} }] });
	const idSeen = nodeOutcome(id, 'Status', scope);
	scope.fact(`100,000-character Task ID: "${short(idSeen.errorMessage, 80)}"; ${env.emulator.requests.length} requests`);
	assert.match(idSeen.errorMessage ?? '', /^Item 0: Task ID is longer than \d+ characters/);
	assert.equal(env.emulator.requests.length, 0);
}

/** 20 items, every 4th one bad: each refused item is named, the good ones are sent, order kept. */
export async function runMixedItemsCase(env: Env, scope: Scope): Promise<void> {
	const count = 20;
	const bad = new Set([0, 4, 9, 13, 19]);
	const input = Array.from({ length: count }, (_, n) => ({ json: { n, media: bad.has(n) ? '' : `cameras/${n}.jpg` } }));
	const nodes = (continueOnFail: boolean) => [submitNode({ mediaKey: '={{ $json.media }}', options: { concurrency: 4 } }, continueOnFail)];

	env.emulator.reset();
	const stopped = await runWorkflow(nodes(false), { credentials: credentialsFor(env), input });
	const stoppedSeen = nodeOutcome(stopped, 'Submit', scope);
	scope.fact(`off: "${short(stoppedSeen.errorMessage)}"; ${env.emulator.requests.length} requests`);
	assert.equal(stoppedSeen.errorMessage, 'Item 0: Media Key is empty');
	assert.equal(env.emulator.requests.length, 0, 'a bad item stops the node before any item is sent');

	env.emulator.reset();
	const kept = await runWorkflow(nodes(true), { credentials: credentialsFor(env), input });
	const seen = nodeOutcome(kept, 'Submit', scope);
	const failed = errorItems(seen.items);
	scope.fact(
		`on: ${seen.items.length} output items, error items at ${failed.map((item) => item.index).join(',')}; ${env.emulator.taskCount()} tasks, ${env.emulator.duplicateTaskCount()} duplicates`,
	);
	assertPairedInOrder(seen.items, count);
	assert.deepEqual(failed.map((item) => item.index), [...bad]);
	failed.forEach((item) => assert.equal(item.message, `Item ${item.index}: Media Key is empty`));
	assert.equal(env.emulator.taskCount(), count - bad.size);
	assert.equal(env.emulator.duplicateTaskCount(), 0);
	seen.items.forEach((item, index) => {
		if (bad.has(index)) return;
		assert.equal(env.emulator.tasks.get(item.json.task_id as string)?.body.media_key, `cameras/${index}.jpg`, 'each task belongs to its item');
	});
}
