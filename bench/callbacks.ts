import { performance } from 'node:perf_hooks';

import { SIGNATURE_HEADER, signatureHeader } from '../nodes/shared/signature';
import type { Emulator } from '../test/emulator/emulator';
import type { BenchN8n } from './benchN8n';
import { percentile } from './stats';
import type { BenchWorkflow } from './workflows';

export const CALLBACKS = 1000;
export const CALLBACK_CONCURRENCY = 20;
export const TRIGGER_RECEIVER = 'Oversight Trigger';

export interface CallbackSample {
	receiver: string;
	p50Ms: number;
	p99Ms: number;
	maxMs: number;
	answered200: number;
	executionsCreated: number;
	seconds: number;
}

/** CloudFactory's side: signed POSTs of reviewed tasks, CALLBACK_CONCURRENCY at a time. */
export async function callbackStorm(params: {
	n8n: BenchN8n;
	emulator: Emulator;
	receiver: string;
	workflow: BenchWorkflow;
	runNumber: number;
}): Promise<CallbackSample> {
	const { n8n, workflow } = params;
	const url = n8n.webhookUrl(workflow);
	const before = await n8n.executionCount(workflow);
	const latencies: number[] = [];
	let answered200 = 0;
	let next = 0;
	const started = performance.now();
	const worker = async () => {
		while (next < CALLBACKS) {
			const index = next++;
			const body = JSON.stringify({
				task_id: `bench-${params.workflow.path}-${params.runNumber}-${index}`,
				state: 'completed',
				updated_inferences: { labels: [{ label: 'car', confidence_score: 0.97 }] },
			});
			const sent = performance.now();
			const response = await fetch(url, {
				method: 'POST',
				headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(params.emulator.webhookSecret, body) },
				body,
			});
			await response.arrayBuffer();
			latencies.push(performance.now() - sent);
			if (response.status === 200) answered200++;
		}
	};
	await Promise.all(Array.from({ length: CALLBACK_CONCURRENCY }, worker));
	const seconds = (performance.now() - started) / 1000;
	return {
		receiver: params.receiver,
		p50Ms: percentile(latencies, 50),
		p99Ms: percentile(latencies, 99),
		maxMs: Math.max(...latencies),
		answered200,
		executionsCreated: (await settledCount(n8n, workflow, before + CALLBACKS)) - before,
		seconds,
	};
}

/** Executions are saved after the answer; wait until the expected number is there or the count stops moving. */
async function settledCount(n8n: BenchN8n, workflow: BenchWorkflow, expected: number): Promise<number> {
	let count = await n8n.executionCount(workflow);
	let unchangedSince = Date.now();
	while (count < expected && Date.now() - unchangedSince < 10_000) {
		await new Promise((resolve) => setTimeout(resolve, 250));
		const latest = await n8n.executionCount(workflow);
		if (latest !== count) unchangedSince = Date.now();
		count = latest;
	}
	return count;
}
