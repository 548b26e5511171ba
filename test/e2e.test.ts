import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startEmulator, type Emulator } from './emulator/emulator';
import type { N8nInstance } from './e2e/n8nInstance';
import { N8nRest } from './e2e/n8nRest';
import { EXAMPLE_CREDENTIAL, EXAMPLES, prepareN8n, readExample } from './e2e/scenario';
import { sha256 } from './helpers/files';

/**
 * The package inside a real n8n (see test/n8n-runtime/): packed with npm pack, installed the way
 * n8n's community-package installer installs it, driven through n8n's CLI, webhooks and REST API.
 * Every runtime runs the same scenarios; CF_E2E_RUNTIMES (comma-separated) picks some of them.
 */
const RUNTIMES = (process.env.CF_E2E_RUNTIMES ?? 'n8n-2.8,n8n-2.41').split(',').map((name) => name.trim());

const uploadExample = readExample(EXAMPLES.uploadSubmitStatus);
const triggerExample = readExample(EXAMPLES.oversightTrigger);
const waitExample = readExample(EXAMPLES.submitAndWait);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 300));
	}
}

const nodeOutput = (runData: Record<string, unknown>, node: string) =>
	(runData[node] as Array<{ data: { main: Array<Array<{ json: Record<string, unknown> }>> } }>)[0].data.main[0];

for (const runtime of RUNTIMES) describeRuntime(runtime);

function describeRuntime(runtime: string) {
	let emulator: Emulator;
	let n8n: N8nInstance;
	let rest: N8nRest;

	describe(`in a real n8n (${runtime})`, { timeout: 30 * 60_000 }, () => {
		before(async () => {
			emulator = await startEmulator({ reviewDelayMs: 2 ** 31 });
			n8n = await prepareN8n({ emulator, runtimeName: runtime, log: (line) => console.log(`# ${line}`) });
		});
		after(async () => {
			await n8n?.stop();
			await emulator?.close();
		});

		it('Manual Trigger -> file -> Upload Media -> Submit Task -> Task Status runs to success (n8n execute)', async () => {
			const run = await n8n.execute(uploadExample.id);
			assert.equal(run.status, 'success', run.data.resultData.error?.message);
			const runData = run.data.resultData.runData;
			const [uploaded] = nodeOutput(runData, 'CloudFactory Upload Media');
			const [task] = nodeOutput(runData, 'CloudFactory Submit Task');
			const [status] = nodeOutput(runData, 'CloudFactory Task Status');
			assert.equal(status.json.task_id, task.json.task_id);
			assert.equal(status.json.state, 'pending');

			const imageNode = uploadExample.nodes.find((node) => node.name === 'Example Image')!;
			const base64 = (imageNode.parameters.assignments as { assignments: Array<{ value: string }> }).assignments[0].value;
			const record = emulator.uploads.get(uploaded.json.media_key as string)!;
			assert.equal(record.sha256, sha256(Buffer.from(base64, 'base64')), 'the emulator holds the exact bytes');
			assert.equal(record.contentType, 'image/png');
			assert.equal(record.apiKeyHeaderReceived, false);
		});

		describe('with n8n start', () => {
			before(async () => {
				await n8n.cli(['publish:workflow', `--id=${triggerExample.id}`]);
				await n8n.start();
				rest = new N8nRest(n8n);
				await rest.setUpOwner();
			});

			it('loads the four nodes (the actions also as AI tools), their icon and the credential', async () => {
				const nodes = await rest.getJson<Array<{ name: string }>>('/types/nodes.json');
				const ours = nodes.map((node) => node.name).filter((name) => name.startsWith('n8n-nodes-cloudfactory.'));
				assert.deepEqual(ours.sort(), [
					'n8n-nodes-cloudfactory.cloudFactoryOversightTrigger',
					'n8n-nodes-cloudfactory.cloudFactorySubmitTask',
					'n8n-nodes-cloudfactory.cloudFactorySubmitTaskTool',
					'n8n-nodes-cloudfactory.cloudFactoryTaskStatus',
					'n8n-nodes-cloudfactory.cloudFactoryTaskStatusTool',
					'n8n-nodes-cloudfactory.cloudFactoryUploadMedia',
					'n8n-nodes-cloudfactory.cloudFactoryUploadMediaTool',
				]);
				const credentials = await rest.getJson<Array<{ name: string }>>('/types/credentials.json');
				assert.ok(credentials.some((credential) => credential.name === 'cloudFactoryApi'));
				const icon = await fetch(`${n8n.baseUrl}/icons/n8n-nodes-cloudfactory/dist/icons/cloudfactory.svg`);
				assert.equal(icon.status, 200);
				assert.match(await icon.text(), /<svg/);
			});

			it("the trigger's production URL starts one execution per signed callback and answers 401 to an unsigned one", async () => {
				const webhookId = triggerExample.nodes[0].webhookId!;
				const url = `${n8n.baseUrl}/webhook/${webhookId}/webhook`;
				const callback = { task_id: 'e2e-task-1', state: 'completed', updated_inferences: { inferences: [] } };

				const unsigned = await emulator.sendSignedCallback(url, callback, { header: null });
				assert.equal(unsigned.status, 401);
				const forged = await emulator.sendSignedCallback(url, callback, { secret: 'forged' });
				assert.equal(forged.status, 401);
				const signed = await emulator.sendSignedCallback(url, callback);
				assert.equal(signed.status, 200, signed.body);
				assert.deepEqual(JSON.parse(signed.body), { received: true });

				const [execution] = await until('the trigger execution', async () => {
					const executions = await rest.executions(triggerExample.id);
					return executions.length > 0 && executions.every((e) => e.status === 'success') ? executions : undefined;
				});
				await new Promise((resolve) => setTimeout(resolve, 1000));
				assert.equal((await rest.executions(triggerExample.id)).length, 1, 'exactly one execution');
				const data = await rest.executionData(execution.id);
				assert.deepEqual(nodeOutput(data.data.resultData.runData, 'CloudFactory Oversight Trigger')[0].json, callback);
			});

			it('Submit Task waits; the callback to the resume URL resumes it; the last node sees the reviewed result', async () => {
				const run = await n8n.execute(waitExample.id);
				assert.equal(run.status, 'waiting', run.data.resultData.error?.message);
				const task = [...emulator.tasks.values()].find((candidate) =>
					String(candidate.body.callback_url).startsWith(`${n8n.baseUrl}/webhook-waiting/`),
				)!;
				assert.ok(task, 'the task was created with the resume URL as callback_url');
				const executionId = String(task.body.callback_url).split('/').pop()!;

				const forged = await emulator.sendSignedCallback(String(task.body.callback_url), { task_id: task.id, state: 'completed' }, { secret: 'forged' });
				assert.equal(forged.status, 401);
				assert.equal((await rest.executionData(executionId)).status, 'waiting', 'a forged callback does not resume it');

				const otherTask = await emulator.sendSignedCallback(String(task.body.callback_url), { task_id: 'another-task', state: 'completed' });
				assert.equal(otherTask.status, 409, otherTask.body);
				assert.equal((await rest.executionData(executionId)).status, 'waiting', 'a signed callback for another task does not resume it');

				await emulator.completeTask(task.id);
				assert.equal(emulator.callbackDeliveries.at(-1)!.status, 200);
				const finished = await until('the resumed execution', async () => {
					const execution = await rest.executionData(executionId);
					return execution.status === 'success' ? execution : undefined;
				});
				const [reviewed] = nodeOutput(finished.data.resultData.runData, 'Reviewed');
				assert.equal(reviewed.json.task_id, task.id);
				assert.equal(reviewed.json.state, 'completed');
				assert.deepEqual(reviewed.json.updated_inferences, task.updatedInferences);
			});

			it("the credential test passes for the emulator's key and fails for a wrong one", async () => {
				const data = { apiKey: emulator.apiKey, baseUrl: emulator.baseUrl, webhookSecret: '' };
				const tasksBefore = emulator.taskCount();
				const ok = await rest.testCredential({ ...EXAMPLE_CREDENTIAL, type: 'cloudFactoryApi', data });
				assert.equal(ok.status, 'OK', ok.message);
				const wrong = await rest.testCredential({ ...EXAMPLE_CREDENTIAL, type: 'cloudFactoryApi', data: { ...data, apiKey: 'wrong-key' } });
				assert.equal(wrong.status, 'Error');
				// n8n 2.8's tester reports its own 401 text: the credential's responseCode rules only
				// apply to errors that carry an axios response, which this one does not.
				assert.match(wrong.message, /Authorization failed|refused the API key/);
				assert.equal(emulator.taskCount(), tasksBefore, 'testing a credential creates no task');
				assert.ok(emulator.requests.some((request) => request.method === 'GET' && request.path === '/v1/tasks' && request.apiKeyPresent));
			});
		});
	});
}
