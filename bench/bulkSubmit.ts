import type { Emulator } from '../test/emulator/emulator';
import type { BenchN8n } from './benchN8n';
import type { BenchWorkflow } from './workflows';

export const BULK_ITEMS = 1000;
export const RATE_LIMIT_PER_SECOND = 20;
export const API_LATENCY_MS = 50;
/** No client can do better than the limit allows. */
export const RATE_LIMIT_FLOOR_SECONDS = BULK_ITEMS / RATE_LIMIT_PER_SECOND;

export interface BulkSample {
	contender: string;
	seconds: number;
	tasksCreated: number;
	failedItems: number;
	duplicateTasks: number;
	/** Answers of 429 the emulator gave: requests the client sent in vain. */
	rateLimited: number;
	error?: string;
}

export async function bulkSubmit(params: { n8n: BenchN8n; emulator: Emulator; workflow: BenchWorkflow; contender: string; runNumber: number }): Promise<BulkSample> {
	const { emulator, workflow } = params;
	emulator.reset();
	emulator.knobs.latencyMs = API_LATENCY_MS;
	emulator.knobs.rateLimit = { requestsPerSecond: RATE_LIMIT_PER_SECOND, retryAfter: 'seconds' };
	const items = Array.from({ length: BULK_ITEMS }, (_, index) => ({ path: `bench/run-${params.runNumber}/frame-${String(index).padStart(4, '0')}.png` }));
	const result = await params.n8n.run(workflow, { items });
	const node = result.nodes[workflow.measuredNodes[0]];
	if (!node) throw new Error(`${params.contender}: the node did not run (execution ${result.executionStatus})`);
	const succeeded = node.items.filter((item) => typeof item.json.task_id === 'string' || typeof item.json.id === 'string').length;
	return {
		contender: params.contender,
		seconds: node.executionTime / 1000,
		tasksCreated: emulator.taskCount(),
		failedItems: BULK_ITEMS - succeeded,
		duplicateTasks: emulator.duplicateTaskCount(),
		rateLimited: emulator.requests.filter((request) => request.status === 429).length,
		error: node.error?.message,
	};
}
