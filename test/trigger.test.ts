import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { signatureHeader } from '../nodes/shared/signature';
import { startEmulator, type Emulator } from './emulator/emulator';
import { NODE_TYPE, shutdownEngine } from './harness/engine';
import { serveTriggerNode } from './harness/webhookServer';

let emulator: Emulator;

before(async () => {
	emulator = await startEmulator({ reviewDelayMs: 60_000 });
});
after(async () => {
	shutdownEngine();
	await emulator.close();
});

type Served = Awaited<ReturnType<typeof serveTriggerNode>>;

async function withTrigger(
	options: Record<string, unknown>,
	test: (trigger: Served) => Promise<void>,
	credentialOverrides: Record<string, string> = {},
) {
	const trigger = await serveTriggerNode({
		type: NODE_TYPE.oversightTrigger,
		parameters: { options } as never,
		credentials: { apiKey: emulator.apiKey, baseUrl: emulator.baseUrl, webhookSecret: emulator.webhookSecret, ...credentialOverrides },
	});
	try {
		await test(trigger);
	} finally {
		await trigger.close();
	}
}

const reviewed = (taskId: string, state = 'completed') => ({
	task_id: taskId,
	state,
	updated_inferences: { inferences: [{ external_id: 'e1', classes: [{ class: 'car', confidence_score: 1 }] }] },
});

describe('CloudFactory Oversight Trigger (webhook() through n8n-core, requests from the emulator)', () => {
	it('starts one execution with the callback JSON of a reviewed task, answered 200', async () => {
		await withTrigger({}, async (trigger) => {
			const ticket = await fetch(`${emulator.baseUrl}/v1/media`, {
				method: 'POST',
				headers: { 'x-api-key': emulator.apiKey, 'content-type': 'application/json' },
				body: JSON.stringify({ configuration_id: 'c', file_name: 'a.png', content_type: 'image/png' }),
			}).then((r) => r.json() as Promise<{ media_upload_url: string; media_key: string }>);
			await fetch(ticket.media_upload_url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: 'png' });
			const task = await fetch(`${emulator.baseUrl}/v1/tasks`, {
				method: 'POST',
				headers: { 'x-api-key': emulator.apiKey, 'content-type': 'application/json' },
				body: JSON.stringify({ configuration_id: 'c', media_key: ticket.media_key, callback_url: trigger.productionUrl }),
			}).then((r) => r.json() as Promise<{ task_id: string }>);

			await emulator.completeTask(task.task_id);
			const [delivery] = emulator.callbackDeliveries;
			assert.equal(delivery.status, 200);
			assert.equal(delivery.delivered, true);
			const started = trigger.started();
			assert.equal(started.length, 1);
			assert.deepEqual(started[0], [{ json: JSON.parse(delivery.body) }]);
			assert.equal(started[0][0].json.task_id, task.task_id);
			assert.equal(started[0][0].json.state, 'completed');
		});
	});

	describe('refuses what is not a genuine, fresh callback: 401 or 400, nothing started', () => {
		const body = JSON.stringify(reviewed('t-attack'));
		const now = () => Math.floor(Date.now() / 1000);
		const attacks: Array<{ name: string; send: (url: string) => Promise<{ status: number }>; status: number }> = [
			{ name: 'no signature header', send: (url) => emulator.sendSignedCallback(url, body, { header: null }), status: 401 },
			{ name: 'malformed header', send: (url) => emulator.sendSignedCallback(url, body, { header: 'sha256=abc' }), status: 401 },
			{ name: 'wrong secret', send: (url) => emulator.sendSignedCallback(url, body, { secret: 'not-the-secret' }), status: 401 },
			{ name: 'stale timestamp', send: (url) => emulator.sendSignedCallback(url, body, { timestamp: now() - 301 }), status: 401 },
			{ name: 'future timestamp', send: (url) => emulator.sendSignedCallback(url, body, { timestamp: now() + 301 }), status: 401 },
			{
				name: 'signature over a different body',
				send: (url) =>
					emulator.sendSignedCallback(url, body, { header: signatureHeader(emulator.webhookSecret, JSON.stringify(reviewed('t-other'))) }),
				status: 401,
			},
			{
				name: 'tampered body (re-serialised)',
				send: (url) =>
					emulator.sendSignedCallback(url, JSON.stringify(reviewed('t-attack'), null, 1), {
						header: signatureHeader(emulator.webhookSecret, body),
					}),
				status: 401,
			},
			{ name: 'signed body that is not JSON', send: (url) => emulator.sendSignedCallback(url, 'task completed'), status: 400 },
			{ name: 'signed JSON that is not an object', send: (url) => emulator.sendSignedCallback(url, '[1,2]'), status: 400 },
		];
		for (const attack of attacks) {
			it(attack.name, async () => {
				await withTrigger({}, async (trigger) => {
					const answer = await attack.send(trigger.productionUrl);
					assert.equal(answer.status, attack.status);
					assert.equal(trigger.started().length, 0);
				});
			});
		}

		it('a GET instead of a POST', async () => {
			await withTrigger({}, async (trigger) => {
				const answer = await fetch(trigger.productionUrl);
				assert.equal(answer.status, 404);
				assert.equal(trigger.started().length, 0);
			});
		});

		it('every callback while the credential has no signing secret', async () => {
			await withTrigger(
				{},
				async (trigger) => {
					const answer = await emulator.sendSignedCallback(trigger.productionUrl, body);
					assert.equal(answer.status, 401);
					assert.match(answer.body, /No webhook signing secret/);
					assert.equal(trigger.started().length, 0);
				},
				{ webhookSecret: '' },
			);
		});
	});

	it('accepts unsigned callbacks only when the user switched the check off', async () => {
		await withTrigger(
			{ skipSignatureCheck: true },
			async (trigger) => {
				const answer = await emulator.sendSignedCallback(trigger.productionUrl, reviewed('t-unsigned'), { header: null });
				assert.equal(answer.status, 200);
				assert.equal(trigger.started().length, 1);
			},
			{ webhookSecret: '' },
		);
	});

	it('drops a redelivery of the same task and state, but not a new state', async () => {
		await withTrigger({}, async (trigger) => {
			for (const payload of [reviewed('t-1'), reviewed('t-1'), reviewed('t-1', 'rejected'), reviewed('t-2')]) {
				assert.equal((await emulator.sendSignedCallback(trigger.productionUrl, payload)).status, 200);
			}
			assert.deepEqual(
				trigger.started().map(([item]) => `${item.json.task_id}/${item.json.state}`),
				['t-1/completed', 't-1/rejected', 't-2/completed'],
			);
			assert.deepEqual(trigger.calls[1].result.webhookResponse, { received: true, ignored: 'redelivery' });
		});
	});

	it('keeps redeliveries when that option is off', async () => {
		await withTrigger({ ignoreRedeliveries: false }, async (trigger) => {
			await emulator.sendSignedCallback(trigger.productionUrl, reviewed('t-1'));
			await emulator.sendSignedCallback(trigger.productionUrl, reviewed('t-1'));
			assert.equal(trigger.started().length, 2);
		});
	});

	it('filters by state (free text, no fixed list), answering 200 to the others', async () => {
		await withTrigger({ states: ' completed , needs_rework ' }, async (trigger) => {
			for (const state of ['pending', 'completed', 'needs_rework', 'Completed']) {
				assert.equal((await emulator.sendSignedCallback(trigger.productionUrl, reviewed(`t-${state}`, state))).status, 200);
			}
			assert.deepEqual(
				trigger.started().map(([item]) => item.json.state),
				['completed', 'needs_rework'],
			);
		});
	});
});
