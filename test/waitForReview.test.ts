import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { startEmulator, type Emulator } from './emulator/emulator';
import { NODE_TYPE, resumeAfterWaitLimit, runWorkflow, shutdownEngine, type NodeSpec } from './harness/engine';
import { startWaitingWebhookServer } from './harness/waitingWebhookServer';

let emulator: Emulator;
let waitingServer: Awaited<ReturnType<typeof startWaitingWebhookServer>>;

before(async () => {
	emulator = await startEmulator({ reviewDelayMs: 60_000 });
	waitingServer = await startWaitingWebhookServer();
});
after(async () => {
	shutdownEngine();
	await waitingServer.close();
	await emulator.close();
});
afterEach(() => emulator.reset());

const credentials = (overrides: Record<string, string> = {}) => ({
	apiKey: emulator.apiKey,
	baseUrl: emulator.baseUrl,
	webhookSecret: emulator.webhookSecret,
	...overrides,
});

function submitAndWait(waitOptions: Record<string, unknown> = {}): NodeSpec {
	return {
		name: 'Submit',
		type: NODE_TYPE.submitTask,
		parameters: {
			configurationId: 'config-1',
			mediaSource: 'bucket',
			bucketId: 'bucket-1',
			mediaKey: 'cameras/north/0001.jpg',
			mediaType: 'image',
			waitForReview: true,
			waitOptions: { allowUnreachableResumeUrl: true, ...waitOptions },
		} as NodeSpec['parameters'],
	};
}
const taskStatus: NodeSpec = { name: 'Status', type: NODE_TYPE.taskStatus, parameters: {} };

async function startWaiting(nodes: NodeSpec[], waitOptions: Record<string, unknown> = {}) {
	const run = await runWorkflow([submitAndWait(waitOptions), ...nodes], {
		credentials: credentials(),
		webhookWaitingBaseUrl: waitingServer.baseUrl,
		input: [{ json: { camera: 'north' } }],
	});
	assert.equal(run.status, 'waiting', run.error?.message);
	waitingServer.track(run);
	const [task] = [...emulator.tasks.values()];
	return { run, task };
}

const postedTasks = () => emulator.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks').length;

describe('Submit Task with Wait for Review', () => {
	it('waits, and continues with the reviewed task when CloudFactory calls back', async () => {
		const { run, task } = await startWaiting([taskStatus]);
		const resumeUrl = `${waitingServer.baseUrl}/${run.executionId}`;
		assert.equal(task.body.callback_url, resumeUrl, "the task's callback is this execution's resume URL");
		assert.ok(run.run.waitTill!.getTime() > Date.now() + 71 * 3_600_000, 'the default limit is 72 hours');

		await emulator.completeTask(task.id);
		const [delivery] = emulator.callbackDeliveries;
		assert.equal(delivery.status, 200);

		const resumed = await waitingServer.resumed(run.executionId);
		assert.ok(resumed, 'the execution continued');
		assert.equal(resumed.status, 'success', resumed.error?.message);
		const [submitOutput] = resumed.output('Submit');
		assert.deepEqual(submitOutput.json, JSON.parse(delivery.body));
		assert.equal(submitOutput.json.state, 'completed');
		const [statusOutput] = resumed.output('Status');
		assert.equal(statusOutput.json.task_id, task.id, 'the next node received the reviewed result');
		assert.equal(statusOutput.json.state, 'completed');
	});

	it('answers 401 to a forged or stale callback and keeps waiting', async () => {
		const { run, task } = await startWaiting([]);
		const resumeUrl = `${waitingServer.baseUrl}/${run.executionId}`;
		const forged = { task_id: task.id, state: 'completed', updated_inferences: { inferences: [] } };
		assert.equal((await emulator.sendSignedCallback(resumeUrl, forged, { secret: 'guessed' })).status, 401);
		assert.equal((await emulator.sendSignedCallback(resumeUrl, forged, { header: null })).status, 401);
		const stale = Math.floor(Date.now() / 1000) - 3600;
		assert.equal((await emulator.sendSignedCallback(resumeUrl, forged, { timestamp: stale })).status, 401);
		assert.equal(waitingServer.resumed(run.executionId), undefined, 'still waiting');
		assert.deepEqual(
			waitingServer.calls.filter((call) => call.executionId === run.executionId).map((call) => call.status),
			[401, 401, 401],
		);

		await emulator.completeTask(task.id);
		assert.equal((await waitingServer.resumed(run.executionId))?.status, 'success');
	});

	it('answers 409 to a genuine callback for another task and keeps waiting for its own', async () => {
		const { run, task } = await startWaiting([]);
		const resumeUrl = `${waitingServer.baseUrl}/${run.executionId}`;
		assert.equal(run.run.data.resultData.metadata?.cloudFactoryTaskId, task.id, 'the task is remembered in custom data');
		const otherTask = { task_id: 'another-task', state: 'completed', updated_inferences: { inferences: [] } };
		const answer = await emulator.sendSignedCallback(resumeUrl, otherTask);
		assert.equal(answer.status, 409);
		assert.equal(waitingServer.resumed(run.executionId), undefined, 'still waiting');

		await emulator.completeTask(task.id);
		assert.equal((await waitingServer.resumed(run.executionId))?.output('Submit')[0].json.task_id, task.id);
	});

	it('when Max Wait passes first, the next node receives the input item unchanged', async () => {
		const { run } = await startWaiting([], { maxWaitHours: 2 });
		const limit = run.run.waitTill!.getTime() - Date.now();
		assert.ok(limit > 1.9 * 3_600_000 && limit <= 2 * 3_600_000, `waitTill is 2 hours ahead (${limit} ms)`);
		const afterLimit = await resumeAfterWaitLimit(run);
		assert.equal(afterLimit.status, 'success', afterLimit.error?.message);
		assert.deepEqual(afterLimit.output('Submit').map((item) => item.json), [{ camera: 'north' }]);
	});

	describe('refuses before creating any task', () => {
		it('more than one item', async () => {
			const run = await runWorkflow([submitAndWait()], {
				credentials: credentials(),
				webhookWaitingBaseUrl: waitingServer.baseUrl,
				input: [{ json: {} }, { json: {} }],
			});
			assert.equal(run.status, 'error');
			assert.match(run.error!.message, /one item per execution, but 2 items arrived/);
			assert.match(String(run.error!.description), /Loop Over Items/);
			assert.equal(postedTasks(), 0);
		});

		it('a resume URL CloudFactory cannot reach, unless acknowledged', async () => {
			for (const base of ['http://localhost:5678/webhook-waiting', 'http://192.168.1.20:5678/webhook-waiting', 'http://[::1]:5678/webhook-waiting']) {
				const run = await runWorkflow([submitAndWait({ allowUnreachableResumeUrl: false })], {
					credentials: credentials(),
					webhookWaitingBaseUrl: base,
				});
				assert.equal(run.status, 'error');
				assert.match(run.error!.message, /CloudFactory could not reach this n8n/);
				assert.match(String(run.error!.description), /WEBHOOK_URL/);
			}
			assert.equal(postedTasks(), 0);
		});

		it('a credential without the webhook signing secret', async () => {
			const run = await runWorkflow([submitAndWait()], {
				credentials: credentials({ webhookSecret: '' }),
				webhookWaitingBaseUrl: waitingServer.baseUrl,
			});
			assert.equal(run.status, 'error');
			assert.match(run.error!.message, /needs the Webhook Signing Secret/);
			assert.equal(postedTasks(), 0);
		});
	});
});
