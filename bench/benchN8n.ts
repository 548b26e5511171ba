import { rmSync } from 'node:fs';

import type { Emulator } from '../test/emulator/emulator';
import type { N8nInstance } from '../test/e2e/n8nInstance';
import { N8nRest } from '../test/e2e/n8nRest';
import { prepareN8n } from '../test/e2e/scenario';
import type { BenchWorkflow } from './workflows';

export interface NodeRun {
	startTime: number;
	executionTime: number;
	error?: { message?: string };
	items: Array<{ json: Record<string, unknown> }>;
}

export interface WorkflowRun {
	httpStatus: number;
	executionStatus: string;
	nodes: Record<string, NodeRun>;
}

/**
 * A real n8n (`n8n start`) with this package installed from its tarball and the benchmark
 * workflows published, so each one runs as a production webhook call.
 */
export class BenchN8n {
	private readonly workflowIds = new Map<BenchWorkflow, string>();

	private constructor(
		readonly instance: N8nInstance,
		readonly rest: N8nRest,
	) {}

	static async start(params: { emulator: Emulator; workflows: BenchWorkflow[]; env: Record<string, string>; log: (line: string) => void }): Promise<BenchN8n> {
		const instance = await prepareN8n({ emulator: params.emulator, env: params.env, log: params.log });
		params.log('Starting n8n');
		await instance.start();
		const rest = new N8nRest(instance);
		await rest.setUpOwner();
		const bench = new BenchN8n(instance, rest);
		// Through the REST API as the editor does: one n8n CLI call per workflow would take 10 s each.
		for (const workflow of params.workflows) await bench.publish(workflow);
		return bench;
	}

	private async publish(workflow: BenchWorkflow): Promise<void> {
		const created = await this.rest.request<{ id: string; versionId: string }>('POST', '/workflows', workflow.json);
		if (created.status !== 200) throw new Error(`Creating workflow "${workflow.name}" failed: ${created.status}`);
		const activated = await this.rest.request('POST', `/workflows/${created.data.id}/activate`, { versionId: created.data.versionId });
		if (activated.status !== 200) throw new Error(`Activating workflow "${workflow.name}" failed: ${activated.status}`);
		this.workflowIds.set(workflow, created.data.id);
	}

	private workflowId(workflow: BenchWorkflow): string {
		const id = this.workflowIds.get(workflow);
		if (id === undefined) throw new Error(`Workflow "${workflow.name}" was not published`);
		return id;
	}

	/**
	 * A fresh n8n process, so that one contender's garbage and memory do not weigh on the next:
	 * after a 1 GiB run of the HTTP Request node, V8's collector took a core for many seconds.
	 */
	async restart(): Promise<void> {
		await this.instance.stop();
		await this.instance.start();
		await this.rest.setUpOwner();
		await new Promise((resolve) => setTimeout(resolve, 2000));
	}

	get pid(): number {
		const pid = this.instance.serverPid;
		if (pid === undefined) throw new Error('n8n is not running');
		return pid;
	}

	webhookUrl(workflow: BenchWorkflow): string {
		return `${this.instance.baseUrl}/webhook/${workflow.path}`;
	}

	async executionCount(workflow: BenchWorkflow): Promise<number> {
		return (await this.rest.executionPage(this.workflowId(workflow), 1)).count;
	}

	/** Calls the workflow's webhook, which answers when its last node is done, then reads the saved run. */
	async run(workflow: BenchWorkflow, body: unknown): Promise<WorkflowRun> {
		const before = await this.executionCount(workflow);
		const response = await fetch(this.webhookUrl(workflow), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
		});
		await response.arrayBuffer();
		const execution = await this.newExecution(workflow, before);
		const runData = execution.data.resultData.runData as Record<string, Array<Record<string, unknown>>>;
		const nodes: Record<string, NodeRun> = {};
		for (const [name, runs] of Object.entries(runData)) {
			const run = runs[0] as { startTime: number; executionTime: number; error?: { message?: string }; data?: { main?: Array<Array<{ json: Record<string, unknown> }>> } };
			nodes[name] = { startTime: run.startTime, executionTime: run.executionTime, error: run.error, items: run.data?.main?.[0] ?? [] };
		}
		return { httpStatus: response.status, executionStatus: execution.status, nodes };
	}

	async stop(): Promise<void> {
		await this.instance.stop();
		// A private user folder per benchmark run: its database and logs are not kept.
		rmSync(this.instance.userFolder, { recursive: true, force: true });
	}

	/** n8n saves the run after it answers the webhook, so wait for it to be finished and saved. */
	private async newExecution(workflow: BenchWorkflow, countBefore: number) {
		const deadline = Date.now() + 120_000;
		for (;;) {
			const { count, results } = await this.rest.executionPage(this.workflowId(workflow), 1);
			const latest = results[0];
			if (count > countBefore && latest && !['new', 'running'].includes(latest.status)) {
				return await this.rest.executionData(latest.id);
			}
			if (Date.now() > deadline) throw new Error(`No finished execution of "${workflow.name}" after 120 s`);
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
	}
}
