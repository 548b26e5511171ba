import assert from 'node:assert/strict';
import { request } from 'node:http';

import { signatureHeader } from '../../nodes/shared/signature';
import { NODE_TYPE, runWorkflow } from '../harness/engine';
import { serveTriggerNode } from '../harness/webhookServer';
import { credentialsFor, OTHER_CREDENTIAL_SECRET, short, submitNode, WEBHOOK_SECRET, type Env } from './env';
import type { Scope } from './report';

/** Execution ids depend on how many ran before: keep them out of the report. */
const withoutExecutionIds = (text: string) => text.replace(/exec-\d+/g, 'exec-N');

export interface Answer {
	status: number;
	body: string;
}

/** The task a genuine callback would report; the attacks forge, bend or replay it. */
export interface Target {
	url: string;
	taskId: string;
}

export interface AttackCase {
	name: string;
	/** HTTP statuses that count as a refusal for this attack. */
	refusedWith: number[];
	send(env: Env, target: Target): Promise<Answer>;
	/** For the replay: first deliver the genuine callback, and expect it to be taken once. */
	deliverFirst?: boolean;
}

const now = () => Math.floor(Date.now() / 1000);
const callbackBody = (taskId: string, state = 'completed') =>
	JSON.stringify({ task_id: taskId, state, updated_inferences: { inferences: [{ external_id: 'e1', classes: [{ class: 'car', confidence_score: 1 }] }] } });

/** A raw HTTP exchange, so that methods, sizes and repeated headers are exactly as given. */
export function send(url: string, options: { method?: string; body?: string | Buffer; headers?: Record<string, string | string[]> }): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const body = options.body ?? '';
		const req = request(url, {
			method: options.method ?? 'POST',
			headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...options.headers },
		});
		req.on('error', reject);
		req.on('response', (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
		});
		req.end(body);
	});
}

const signed = (body: string, header: string | string[]) => ({ body, headers: { 'x-cf-signature': header } });
const genuine = (body: string) => signed(body, signatureHeader(WEBHOOK_SECRET, body));

const HUGE_BYTES = 17 * 1024 * 1024;
const LARGE_BYTES = 8 * 1024 * 1024;

export const attackCases: AttackCase[] = [
	{ name: 'no signature header', refusedWith: [401], send: (_env, t) => send(t.url, { body: callbackBody(t.taskId) }) },
	{ name: 'malformed header (sha256=…)', refusedWith: [401], send: (_env, t) => send(t.url, signed(callbackBody(t.taskId), 'sha256=abc')) },
	{ name: 'wrong secret', refusedWith: [401], send: (_env, t) => send(t.url, signed(callbackBody(t.taskId), signatureHeader('not-the-secret', callbackBody(t.taskId)))) },
	{
		name: 'the secret of another credential',
		refusedWith: [401],
		send: (_env, t) => send(t.url, signed(callbackBody(t.taskId), signatureHeader(OTHER_CREDENTIAL_SECRET, callbackBody(t.taskId)))),
	},
	{
		name: 'tampered body (state changed after signing)',
		refusedWith: [401],
		send: (_env, t) => send(t.url, signed(callbackBody(t.taskId, 'rejected'), signatureHeader(WEBHOOK_SECRET, callbackBody(t.taskId)))),
	},
	{
		name: 'signature over a different body (another task)',
		refusedWith: [401],
		send: (_env, t) => send(t.url, signed(callbackBody(t.taskId), signatureHeader(WEBHOOK_SECRET, callbackBody('another-task')))),
	},
	{
		name: 'stale timestamp (301 s old)',
		refusedWith: [401],
		send: (_env, t) => send(t.url, signed(callbackBody(t.taskId), signatureHeader(WEBHOOK_SECRET, callbackBody(t.taskId), now() - 301))),
	},
	{
		name: 'future timestamp (301 s ahead)',
		refusedWith: [401],
		send: (_env, t) => send(t.url, signed(callbackBody(t.taskId), signatureHeader(WEBHOOK_SECRET, callbackBody(t.taskId), now() + 301))),
	},
	{
		name: 'replay of a delivered callback (same bytes, same header)',
		refusedWith: [200, 404],
		deliverFirst: true,
		send: (_env, t) => send(t.url, genuine(callbackBody(t.taskId))),
	},
	{
		name: 'huge body (17 MiB, over n8n\'s 16 MiB payload limit)',
		refusedWith: [413],
		send: (_env, t) => send(t.url, { body: Buffer.alloc(HUGE_BYTES, 0x20), headers: { 'x-cf-signature': `t=${now()};v1=${'0'.repeat(64)}` } }),
	},
	{
		name: 'large forged body (8 MiB, within the payload limit)',
		refusedWith: [401],
		send: (_env, t) => {
			const body = `{"task_id":"${t.taskId}","state":"completed","pad":"${'x'.repeat(LARGE_BYTES)}"}`;
			return send(t.url, signed(body, `t=${now()};v1=${'0'.repeat(64)}`));
		},
	},
	{ name: 'non-JSON body, genuinely signed', refusedWith: [400], send: (_env, t) => send(t.url, genuine('task completed')) },
	{ name: 'JSON that is not an object, genuinely signed', refusedWith: [400], send: (_env, t) => send(t.url, genuine('[1,2]')) },
	{ name: 'wrong method (GET)', refusedWith: [404, 405], send: (_env, t) => send(t.url, { method: 'GET' }) },
	{ name: 'wrong method (PUT), genuinely signed', refusedWith: [404, 405], send: (_env, t) => send(t.url, { method: 'PUT', ...genuine(callbackBody(t.taskId)) }) },
	{
		name: 'a header with 6 v1 values, one of them right (over the cap of 5)',
		refusedWith: [401],
		send: (_env, t) => {
			const body = callbackBody(t.taskId);
			const many = Array.from({ length: 5 }, (_, n) => `v1=${n.toString(16).padStart(64, '0')}`).join(';');
			return send(t.url, signed(body, `${signatureHeader(WEBHOOK_SECRET, body)};${many}`));
		},
	},
	{
		// 68 KB of header: Node's HTTP server (n8n's too) refuses it before any code of ours runs.
		name: 'a header with 1,000 v1 values, one of them right',
		refusedWith: [431],
		send: (_env, t) => {
			const body = callbackBody(t.taskId);
			const good = signatureHeader(WEBHOOK_SECRET, body);
			const many = Array.from({ length: 999 }, (_, n) => `v1=${n.toString(16).padStart(64, '0')}`).join(';');
			return send(t.url, signed(body, `${good};${many}`));
		},
	},
	{
		name: 'X-CF-Signature sent twice',
		refusedWith: [401],
		send: (_env, t) => {
			const body = callbackBody(t.taskId);
			return send(t.url, signed(body, [signatureHeader(WEBHOOK_SECRET, body), signatureHeader('guess', body)]));
		},
	},
];

/** The wait webhook only: a genuine, fresh callback, but for a task this execution did not create. */
export const crossTaskAttack: AttackCase = {
	name: 'genuinely signed callback for another task (replayed from elsewhere)',
	refusedWith: [409],
	send: (_env, t) => send(t.url, genuine(callbackBody(`not-${t.taskId}`))),
};

export function describeAttackExpectation(attack: AttackCase): string {
	if (attack.deliverFirst) return 'trigger: 200 "redelivery", no second execution; wait: no second resume; the genuine first delivery is taken once';
	return `answered ${attack.refusedWith.join(' or ')}; nothing starts or resumes; a genuine callback afterwards still works`;
}

/** Trigger: the attack starts nothing; a genuine callback afterwards starts exactly one execution. */
export async function attackTrigger(env: Env, attack: AttackCase, scope: Scope): Promise<void> {
	const trigger = await serveTriggerNode({ type: NODE_TYPE.oversightTrigger, parameters: { options: {} }, credentials: credentialsFor(env) });
	try {
		const target = { url: trigger.productionUrl, taskId: 'task-under-attack' };
		if (attack.deliverFirst) assert.equal((await send(target.url, genuine(callbackBody(target.taskId)))).status, 200);
		const before = trigger.started().length;
		const answer = await attack.send(env, target);
		scope.exposed('webhook answers', answer.body);
		const startedByAttack = trigger.started().length - before;
		scope.fact(`trigger: ${answer.status} ${short(answer.body, 70)}; started ${startedByAttack}`);
		assert.ok(attack.refusedWith.includes(answer.status), `answered ${answer.status}`);
		assert.equal(startedByAttack, 0, 'the attack started nothing');
		if (attack.deliverFirst) {
			assert.equal(trigger.started().length, 1, 'the genuine delivery started one execution');
			return;
		}
		const followUp = await send(target.url, genuine(callbackBody(target.taskId)));
		assert.equal(followUp.status, 200);
		assert.equal(trigger.started().length, 1, 'a genuine callback afterwards still starts one execution');
		scope.fact('genuine callback after it: started 1');
	} finally {
		await trigger.close();
	}
}

/** Wait webhook: the attack resumes nothing; the emulator's genuine callback afterwards resumes it. */
export async function attackWaitWebhook(env: Env, attack: AttackCase, scope: Scope): Promise<void> {
	env.emulator.reset();
	const run = await runWorkflow(
		[submitNode({ waitForReview: true, waitOptions: { allowUnreachableResumeUrl: true } }, false)],
		{ credentials: credentialsFor(env), webhookWaitingBaseUrl: env.waiting.baseUrl, input: [{ json: { n: 0 } }] },
	);
	scope.exposed('the waiting run data', run.run.data);
	assert.equal(run.status, 'waiting', run.error?.message);
	env.waiting.track(run);
	const [task] = [...env.emulator.tasks.values()];
	const target = { url: `${env.waiting.baseUrl}/${run.executionId}`, taskId: task.id };

	if (attack.deliverFirst) {
		await env.emulator.completeTask(task.id);
		const resumed = await env.waiting.resumed(run.executionId);
		assert.equal(resumed?.status, 'success');
		const answer = await attack.send(env, { url: target.url, taskId: task.id });
		scope.exposed('webhook answers', answer.body);
		const resumes = env.waiting.calls.filter((call) => call.executionId === run.executionId && call.result.workflowData).length;
		scope.fact(`wait: ${answer.status} ${short(withoutExecutionIds(answer.body), 70)}; resumed ${resumes} time(s) in all`);
		assert.ok(attack.refusedWith.includes(answer.status), `answered ${answer.status}`);
		assert.equal(resumes, 1, 'the replay resumed nothing');
		return;
	}
	const answer = await attack.send(env, target);
	scope.exposed('webhook answers', answer.body);
	const stillWaiting = env.waiting.resumed(run.executionId) === undefined;
	scope.fact(`wait: ${answer.status} ${short(withoutExecutionIds(answer.body), 70)}; ${stillWaiting ? 'still waiting' : 'RESUMED'}`);
	assert.ok(attack.refusedWith.includes(answer.status), `answered ${answer.status}`);
	assert.ok(stillWaiting, 'the execution keeps waiting');

	await env.emulator.completeTask(task.id);
	const resumed = await env.waiting.resumed(run.executionId);
	assert.equal(resumed?.status, 'success', 'the genuine callback afterwards resumes it');
	assert.equal(resumed.output('Submit')[0].json.task_id, task.id);
	scope.exposed('the resumed run data', resumed.run.data);
	scope.fact('genuine callback after it: resumed');
}
