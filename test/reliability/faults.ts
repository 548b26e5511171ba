import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';

import type { Fault, FaultRoute, Knobs } from '../emulator/emulator';
import { runWorkflow, type NodeSpec } from '../harness/engine';
import { sha256OfFile } from '../helpers/files';
import { unusedPort } from '../helpers/ports';
import {
	API_KEY,
	assertPairedInOrder,
	createTasks,
	credentialsFor,
	errorItems,
	matchesRoute,
	nodeOutcome,
	numberedItems,
	readFileNode,
	short,
	statusNode,
	submitNode,
	uploadNode,
	type Env,
	type NodeOutcome,
} from './env';
import type { Scope } from './report';

type Target = 'upload' | 'submit' | 'status';

/** The fault hits the first request on its route; with concurrency 1 that is item 0's. */
type Expectation =
	| { outcome: 'retried'; attempts: number; waitsAtLeastMs?: number }
	| {
			outcome: 'refused';
			attempts: number;
			message: RegExp;
			hint: RegExp;
			/** The hint in words, for the report. */
			hintSays: string;
			/** Tasks the failing request itself created (it may have been processed before the failure). */
			tasksByFailedItem: number;
			/** When a knob, not a one-off fault, breaks every item. */
			everyItemFails?: boolean;
	  };

export interface FaultCase {
	name: string;
	target: Target;
	route: FaultRoute;
	faults?: () => Fault[];
	knobs?: Partial<Knobs>;
	timeoutSeconds?: number;
	expect: Expectation;
}

const ITEMS = 2;
const NODE_NAME: Record<Target, string> = { upload: 'Upload', submit: 'Submit', status: 'Status' };
const MAY_EXIST = /may or may not exist.*not sent again/;
const MAY_EXIST_SAYS = 'the task may exist, not sent again';

const once = (route: FaultRoute, action: Fault['action']): (() => Fault[]) => () => [{ route, action } as Fault];
const status = (route: FaultRoute, code: number, retryAfter?: string) => once(route, { kind: 'status', status: code, retryAfter });

const retried = (attempts = 2, waitsAtLeastMs?: number): Expectation => ({ outcome: 'retried', attempts, waitsAtLeastMs });
const notRetriedTaskMayExist = (message: RegExp, tasksByFailedItem: number): Expectation => ({
	outcome: 'refused',
	attempts: 1,
	message,
	hint: MAY_EXIST,
	hintSays: MAY_EXIST_SAYS,
	tasksByFailedItem,
});

export const faultCases: FaultCase[] = [
	{ name: '429 with Retry-After in seconds (1), GET /v1/tasks/:id', target: 'status', route: 'GET /v1/tasks/:id', faults: status('GET /v1/tasks/:id', 429, '1'), expect: retried(2, 900) },
	{
		name: '429 with Retry-After as an HTTP date (~2 s ahead), POST /v1/media',
		target: 'upload',
		route: 'POST /v1/media',
		faults: () => [{ route: 'POST /v1/media', action: { kind: 'status', status: 429, retryAfter: new Date(Date.now() + 2000).toUTCString() } }],
		// An HTTP date has whole seconds, so the wait is between 1 and 2 s.
		expect: retried(2, 900),
	},
	{ name: '429 without Retry-After, POST /v1/tasks (429 = not processed)', target: 'submit', route: 'POST /v1/tasks', faults: status('POST /v1/tasks', 429), expect: retried() },
	{ name: '500, GET /v1/tasks/:id', target: 'status', route: 'GET /v1/tasks/:id', faults: status('GET /v1/tasks/:id', 500), expect: retried() },
	{ name: '500, POST /v1/tasks', target: 'submit', route: 'POST /v1/tasks', faults: status('POST /v1/tasks', 500), expect: notRetriedTaskMayExist(/Item 0: Creating the task failed with HTTP 500/, 0) },
	{ name: '502, POST /v1/media', target: 'upload', route: 'POST /v1/media', faults: status('POST /v1/media', 502), expect: retried() },
	{ name: '502, POST /v1/tasks', target: 'submit', route: 'POST /v1/tasks', faults: status('POST /v1/tasks', 502), expect: notRetriedTaskMayExist(/Item 0: Creating the task failed with HTTP 502/, 0) },
	{ name: '503, POST /v1/tasks (503 = not processed)', target: 'submit', route: 'POST /v1/tasks', faults: status('POST /v1/tasks', 503), expect: retried() },
	{ name: '503 with Retry-After 1, PUT upload', target: 'upload', route: 'PUT upload', faults: status('PUT upload', 503, '1'), expect: retried(2, 900) },
	{ name: '504, GET /v1/tasks/:id', target: 'status', route: 'GET /v1/tasks/:id', faults: status('GET /v1/tasks/:id', 504), expect: retried() },
	{ name: '504, POST /v1/tasks', target: 'submit', route: 'POST /v1/tasks', faults: status('POST /v1/tasks', 504), expect: notRetriedTaskMayExist(/Item 0: Creating the task failed with HTTP 504/, 0) },
	{ name: 'reset before the answer (not processed), POST /v1/media', target: 'upload', route: 'POST /v1/media', faults: once('POST /v1/media', { kind: 'reset-before-processing' }), expect: retried() },
	{ name: 'reset before the answer (not processed), PUT upload', target: 'upload', route: 'PUT upload', faults: once('PUT upload', { kind: 'reset-before-processing' }), expect: retried() },
	{ name: 'reset before the answer (not processed), GET /v1/tasks/:id', target: 'status', route: 'GET /v1/tasks/:id', faults: once('GET /v1/tasks/:id', { kind: 'reset-before-processing' }), expect: retried() },
	{
		name: 'reset before the answer (not processed), POST /v1/tasks: the client cannot tell, so no retry',
		target: 'submit',
		route: 'POST /v1/tasks',
		faults: once('POST /v1/tasks', { kind: 'reset-before-processing' }),
		expect: notRetriedTaskMayExist(/Item 0: Creating the task failed: the connection failed/, 0),
	},
	{ name: 'reset after processing, POST /v1/media', target: 'upload', route: 'POST /v1/media', faults: once('POST /v1/media', { kind: 'reset-after-processing' }), expect: retried() },
	{ name: 'reset after processing, GET /v1/tasks/:id', target: 'status', route: 'GET /v1/tasks/:id', faults: once('GET /v1/tasks/:id', { kind: 'reset-after-processing' }), expect: retried() },
	{
		name: 'reset after processing, POST /v1/tasks (the task exists)',
		target: 'submit',
		route: 'POST /v1/tasks',
		faults: once('POST /v1/tasks', { kind: 'reset-after-processing' }),
		expect: notRetriedTaskMayExist(/Item 0: Creating the task failed: the connection failed/, 1),
	},
	{ name: 'reset in the middle of an upload (64 KiB of 256 KiB)', target: 'upload', route: 'PUT upload', faults: once('PUT upload', { kind: 'reset-mid-upload', afterBytes: 64 * 1024 }), expect: retried() },
	{ name: 'answer slower than the timeout (2.5 s > 1 s), GET /v1/tasks/:id', target: 'status', route: 'GET /v1/tasks/:id', timeoutSeconds: 1, faults: once('GET /v1/tasks/:id', { kind: 'delay', ms: 2500 }), expect: retried() },
	{ name: 'answer slower than the timeout (2.5 s > 1 s), PUT upload', target: 'upload', route: 'PUT upload', timeoutSeconds: 1, faults: once('PUT upload', { kind: 'delay', ms: 2500 }), expect: retried() },
	{
		name: 'answer slower than the timeout (2.5 s > 1 s), POST /v1/tasks (the task exists)',
		target: 'submit',
		route: 'POST /v1/tasks',
		timeoutSeconds: 1,
		faults: once('POST /v1/tasks', { kind: 'delay', ms: 2500 }),
		expect: notRetriedTaskMayExist(/Item 0: Creating the task failed: no answer within the timeout/, 1),
	},
	{
		name: 'expired upload URL (403, S3 XML)',
		target: 'upload',
		route: 'PUT upload',
		knobs: { uploadUrlTtlSeconds: 0 },
		expect: {
			outcome: 'refused',
			attempts: 1,
			message: /Item 0: Uploading the file failed with HTTP 403: AccessDenied: Request has expired/,
			hint: /upload URL expired/,
			hintSays: 'the upload URL expired, run again',
			tasksByFailedItem: 0,
			everyItemFails: true,
		},
	},
	{
		name: 'truncated JSON body (200), GET /v1/tasks/:id',
		target: 'status',
		route: 'GET /v1/tasks/:id',
		faults: once('GET /v1/tasks/:id', { kind: 'truncated-json' }),
		expect: { outcome: 'refused', attempts: 1, message: /Item 0: Reading the task failed: CloudFactory answered HTTP 200 but the answer is not valid JSON/, hint: /Base URL/, hintSays: 'check the Base URL', tasksByFailedItem: 0 },
	},
	{
		name: 'truncated JSON body (200), POST /v1/tasks (the task exists)',
		target: 'submit',
		route: 'POST /v1/tasks',
		faults: once('POST /v1/tasks', { kind: 'truncated-json' }),
		expect: notRetriedTaskMayExist(/Item 0: Creating the task failed: CloudFactory answered HTTP 200 but the answer is not valid JSON/, 1),
	},
	{ name: 'HTML error page (502 from a proxy), GET /v1/tasks/:id', target: 'status', route: 'GET /v1/tasks/:id', faults: once('GET /v1/tasks/:id', { kind: 'html', status: 502 }), expect: retried() },
	{
		name: 'HTML error page (403 from a proxy), POST /v1/media',
		target: 'upload',
		route: 'POST /v1/media',
		faults: once('POST /v1/media', { kind: 'html', status: 403 }),
		expect: { outcome: 'refused', attempts: 1, message: /Item 0: Requesting an upload URL failed with HTTP 403: 403 Forbidden$/, hint: /not allowed/, hintSays: 'the key is not allowed to do this', tasksByFailedItem: 0 },
	},
	{
		name: 'HTML error page (502 from a proxy), POST /v1/tasks',
		target: 'submit',
		route: 'POST /v1/tasks',
		faults: once('POST /v1/tasks', { kind: 'html', status: 502 }),
		expect: notRetriedTaskMayExist(/Item 0: Creating the task failed with HTTP 502: 502 Bad Gateway/, 0),
	},
	{
		name: 'an error answer that echoes the API key (400), GET /v1/tasks/:id',
		target: 'status',
		route: 'GET /v1/tasks/:id',
		faults: once('GET /v1/tasks/:id', { kind: 'status', status: 400, body: JSON.stringify({ message: `x-api-key ${API_KEY} may not read this task` }) }),
		expect: { outcome: 'refused', attempts: 1, message: /^Item 0: Reading the task failed with HTTP 400: x-api-key \[redacted\] may not read this task$/, hint: /CloudFactory rejected the request/, hintSays: 'CloudFactory rejected the request', tasksByFailedItem: 0 },
	},
	{
		name: '200 with an unexpected body shape, POST /v1/media',
		target: 'upload',
		route: 'POST /v1/media',
		faults: once('POST /v1/media', { kind: 'unexpected-shape' }),
		expect: { outcome: 'refused', attempts: 1, message: /Item 0: Requesting an upload URL failed: CloudFactory answered HTTP 200 but the answer has no media_upload_url/, hint: /API may have changed/, hintSays: 'check the Base URL; the API may have changed', tasksByFailedItem: 0 },
	},
	{
		name: '200 with an unexpected body shape, POST /v1/tasks (the task exists)',
		target: 'submit',
		route: 'POST /v1/tasks',
		faults: once('POST /v1/tasks', { kind: 'unexpected-shape' }),
		expect: notRetriedTaskMayExist(/Item 0: Creating the task failed: CloudFactory answered HTTP 200 but the answer has no task_id/, 1),
	},
	{
		name: '200 with an unexpected body shape, GET /v1/tasks/:id',
		target: 'status',
		route: 'GET /v1/tasks/:id',
		faults: once('GET /v1/tasks/:id', { kind: 'unexpected-shape' }),
		expect: { outcome: 'refused', attempts: 1, message: /Item 0: Reading the task failed: CloudFactory answered HTTP 200 but the answer has no state/, hint: /API may have changed/, hintSays: 'check the Base URL; the API may have changed', tasksByFailedItem: 0 },
	},
];

export function describeExpectation(testCase: FaultCase): string {
	const { expect } = testCase;
	const tasks = testCase.target === 'submit' ? `; ${ITEMS} tasks` : '';
	if (expect.outcome === 'retried') {
		return `success after ${expect.attempts} attempts${expect.waitsAtLeastMs ? ' (waits as told)' : ''}${tasks}, no duplicate; ${ITEMS} output items (continueOnFail off and on)`;
	}
	const retry = expect.attempts === 1 ? 'not retried' : `${expect.attempts} attempts`;
	const failing = expect.everyItemFails ? ITEMS : 1;
	const taskText =
		testCase.target === 'submit'
			? `; tasks: ${expect.tasksByFailedItem} (off) / ${expect.tasksByFailedItem + ITEMS - failing} (on), no duplicate`
			: '';
	return `${retry}; error ${short(expect.message.source.replace(/[\\^$]/g, ''), 90)}; hint: ${expect.hintSays}${taskText}; on: ${ITEMS} output items, ${failing} error item(s)`;
}

async function workflowFor(env: Env, target: Target, parameters: Record<string, unknown>, continueOnFail: boolean) {
	switch (target) {
		case 'upload':
			return { nodes: [readFileNode(env.imagePath), uploadNode(parameters, continueOnFail)] as NodeSpec[], input: numberedItems(ITEMS) };
		case 'submit':
			return { nodes: [submitNode(parameters, continueOnFail)], input: numberedItems(ITEMS) };
		case 'status': {
			const ids = await createTasks(env, ITEMS);
			return { nodes: [statusNode({ taskId: '={{ $json.task_id }}', ...parameters }, continueOnFail)], input: ids.map((task_id) => ({ json: { task_id } })) };
		}
	}
}

/** One fault case, once with continueOnFail off and once on. */
export async function runFaultCase(env: Env, testCase: FaultCase, scope: Scope): Promise<void> {
	for (const continueOnFail of [false, true]) {
		const { emulator } = env;
		emulator.reset();
		const parameters = { options: { concurrency: 1, ...(testCase.timeoutSeconds && { timeout: testCase.timeoutSeconds }) } };
		const { nodes, input } = await workflowFor(env, testCase.target, parameters, continueOnFail);
		const tasksBefore = emulator.taskCount();
		Object.assign(emulator.knobs, testCase.knobs);
		emulator.knobs.faults.push(...(testCase.faults?.() ?? []));

		const run = await runWorkflow(nodes, { credentials: credentialsFor(env), input });
		const seen = nodeOutcome(run, NODE_NAME[testCase.target], scope);
		const onRoute = emulator.requests.filter((request) => matchesRoute(request, testCase.route));
		const otherItemsOnRoute = seen.items.length === 0 ? 0 : ITEMS - 1;
		const attempts = onRoute.length - otherItemsOnRoute;
		const tasks = emulator.taskCount() - tasksBefore;
		const mode = continueOnFail ? 'on' : 'off';
		const failed = errorItems(seen.items);
		scope.fact(
			`${mode}: ${whatTheUserSaw(seen)}; ${attempts} attempt(s); ${tasks} task(s), ${emulator.duplicateTaskCount()} duplicate(s)`,
		);

		assert.equal(emulator.duplicateTaskCount(), 0, 'no duplicate task');
		await assertFaultOutcome(env, testCase, continueOnFail, scope, { ...seen, failed, attempts, tasks, onRoute });
	}
}

async function assertFaultOutcome(
	env: Env,
	testCase: FaultCase,
	continueOnFail: boolean,
	scope: Scope,
	seen: NodeOutcome & { failed: ReturnType<typeof errorItems>; attempts: number; tasks: number; onRoute: typeof env.emulator.requests },
): Promise<void> {
	const { expect } = testCase;
	assert.equal(seen.attempts, expect.attempts, 'attempts of the faulted item');
	if (expect.outcome === 'retried') {
		assert.equal(seen.errorMessage, undefined, 'the retry succeeded');
		assertPairedInOrder(seen.items, ITEMS);
		assert.equal(seen.failed.length, 0);
		if (testCase.target === 'submit') assert.equal(seen.tasks, ITEMS);
		if (testCase.target === 'upload') await assertUploadsIntact(env, seen.items);
		if (expect.waitsAtLeastMs !== undefined) {
			const [first, second] = seen.onRoute;
			scope.fact(`${continueOnFail ? 'on' : 'off'}: retry waited ${second.at - first.at >= expect.waitsAtLeastMs ? 'as told' : 'TOO LITTLE'}`);
			assert.ok(second.at - first.at >= expect.waitsAtLeastMs, `waited ${second.at - first.at} ms before the retry`);
		}
		return;
	}
	const failing = expect.everyItemFails ? ITEMS : 1;
	if (continueOnFail) {
		assertPairedInOrder(seen.items, ITEMS);
		assert.deepEqual(seen.failed.map((item) => item.index), Array.from({ length: failing }, (_, index) => index));
		assert.match(seen.failed[0].message, expect.message);
		assert.match(seen.failed[0].description, expect.hint);
	} else {
		assert.ok(seen.errorMessage, 'the node stopped the workflow');
		assert.match(seen.errorMessage, expect.message);
		assert.match(seen.errorDescription ?? '', expect.hint);
	}
	if (testCase.target === 'submit') {
		assert.equal(seen.tasks, expect.tasksByFailedItem + (continueOnFail ? ITEMS - failing : 0));
	}
}

/** The error that stopped the node, or the items with the first error item's message. */
function whatTheUserSaw(seen: NodeOutcome): string {
	if (seen.errorMessage) return `error "${short(seen.errorMessage)}"`;
	const failed = errorItems(seen.items);
	return `${seen.items.length} items, ${failed.length} error item(s)${failed[0] ? ` "${short(failed[0].message)}"` : ''}`;
}

async function assertUploadsIntact(env: Env, items: NodeOutcome['items']): Promise<void> {
	const expected = await sha256OfFile(env.imagePath);
	for (const item of items) {
		assert.equal(env.emulator.uploads.get(item.json.media_key as string)?.sha256, expected, 'the uploaded bytes are intact');
	}
}

/** Forwards a loopback port to the emulator, standing for a service that comes up late. */
async function forwardTo(port: number, targetPort: number): Promise<Server> {
	const sockets = new Set<Socket>();
	const server = createServer((client) => {
		const upstream = connect(targetPort, '127.0.0.1');
		for (const socket of [client, upstream]) {
			sockets.add(socket);
			socket.on('error', () => undefined);
			socket.on('close', () => sockets.delete(socket));
		}
		client.pipe(upstream).pipe(client);
	});
	server.on('close', () => sockets.forEach((socket) => socket.destroy()));
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
	return server;
}

export interface RefusedConnectionCase {
	name: string;
	target: 'submit' | 'status';
	/** The API starts listening after the first refused attempt, or never. */
	comesUp: boolean;
	continueOnFail: boolean[];
	expect: string;
}

export const refusedConnectionCases: RefusedConnectionCase[] = [
	{ name: 'connection refused, then the API comes up, POST /v1/tasks (nothing was sent: retried)', target: 'submit', comesUp: true, continueOnFail: [false, true], expect: `success after 2 attempts; ${ITEMS} tasks, no duplicate; ${ITEMS} output items (continueOnFail off and on)` },
	{ name: 'connection refused, then the API comes up, GET /v1/tasks/:id', target: 'status', comesUp: true, continueOnFail: [false, true], expect: `success after 2 attempts; ${ITEMS} output items (continueOnFail off and on)` },
	{ name: 'connection refused for good, GET /v1/tasks/:id', target: 'status', comesUp: false, continueOnFail: [true], expect: `each item fails after 5 attempts: "Item N: Reading the task failed: the connection failed", hint names ECONNREFUSED; ${ITEMS} output items, ${ITEMS} error items` },
];

/** Connection refused: the port has no listener; the retry log line tells when to open it. */
export async function runRefusedConnectionCase(
	env: Env,
	testCase: RefusedConnectionCase,
	scope: Scope,
	onNextRetryLog: (listener: (line: string) => void) => void,
): Promise<void> {
	for (const continueOnFail of testCase.continueOnFail) {
		env.emulator.reset();
		const port = await unusedPort();
		const { nodes, input } = await workflowFor(env, testCase.target, { options: { concurrency: ITEMS } }, continueOnFail);
		const retryLines: string[] = [];
		let forwarder: Promise<Server> | undefined;
		onNextRetryLog((line) => {
			retryLines.push(line);
			if (testCase.comesUp && /ECONNREFUSED/.test(line)) forwarder ??= forwardTo(port, Number(new URL(env.emulator.baseUrl).port));
		});
		const tasksBefore = env.emulator.taskCount();
		try {
			const run = await runWorkflow(nodes, { credentials: credentialsFor(env, { baseUrl: `http://127.0.0.1:${port}` }), input });
			const seen = nodeOutcome(run, NODE_NAME[testCase.target], scope);
			const failed = errorItems(seen.items);
			const refusedRetries = retryLines.filter((line) => /ECONNREFUSED/.test(line)).length;
			const tasks = env.emulator.taskCount() - tasksBefore;
			scope.fact(
				`${continueOnFail ? 'on' : 'off'}: ${whatTheUserSaw(seen)}; ${refusedRetries} retries after ECONNREFUSED; ${tasks} task(s), ${env.emulator.duplicateTaskCount()} duplicate(s)`,
			);
			assert.equal(env.emulator.duplicateTaskCount(), 0);
			assertPairedInOrder(seen.items, ITEMS);
			if (testCase.comesUp) {
				assert.ok(refusedRetries >= 1, 'the refused attempt was retried');
				assert.equal(failed.length, 0);
				if (testCase.target === 'submit') assert.equal(tasks, ITEMS);
			} else {
				assert.equal(refusedRetries, ITEMS * 4, 'every item retried 4 times');
				assert.deepEqual(failed.map((item) => item.index), [0, 1]);
				failed.forEach((item) => assert.match(item.message, new RegExp(`^Item ${item.index}: Reading the task failed: the connection failed \\(after 5 attempts\\)$`)));
				assert.match(failed[0].description, /ECONNREFUSED/);
			}
		} finally {
			onNextRetryLog(() => undefined);
			if (forwarder) (await forwarder).close();
		}
	}
}
