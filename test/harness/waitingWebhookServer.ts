import type { Server } from 'node:http';

import express from 'express';
import { WebhookContext, WorkflowExecute } from 'n8n-core';
import type { IWebhookData, IWebhookResponseData } from 'n8n-workflow';

import { WorkflowRun } from './engine';
import { rawBodyMiddleware } from './webhookServer';

export interface ResumeCall {
	executionId: string;
	status: number;
	result: IWebhookResponseData;
}

/**
 * n8n's /webhook-waiting/<executionId> endpoint for executions run by the harness: the waiting
 * node's webhook() is called through n8n-core's WebhookContext; when it returns workflowData the
 * execution continues from there, with the steps n8n's WaitingWebhooks takes (the waiting node is
 * disabled so that its webhook output passes on, its pending run is dropped, the wait is cleared).
 */
export async function startWaitingWebhookServer() {
	const waiting = new Map<string, WorkflowRun>();
	const resumed = new Map<string, Promise<WorkflowRun>>();
	const calls: ResumeCall[] = [];

	const app = express();
	app.use(rawBodyMiddleware);
	app.post('/webhook-waiting/:executionId', async (req, res) => {
		const executionId = req.params.executionId;
		const run = waiting.get(executionId);
		if (!run || run.status !== 'waiting') {
			res.status(404).json({ message: `Execution ${executionId} is not waiting` });
			return;
		}
		const runExecutionData = run.run.data;
		const node = run.workflow.getNode(runExecutionData.resultData.lastNodeExecuted!)!;
		const nodeType = run.workflow.nodeTypes.getByNameAndVersion(node.type, node.typeVersion);
		const description = nodeType.description.webhooks!.find((webhook) => webhook.restartWebhook)!;
		const additionalData = { ...run.additionalData, httpRequest: req, httpResponse: res };
		const webhookData: IWebhookData = {
			httpMethod: 'POST',
			node: node.name,
			path: '',
			webhookDescription: description,
			workflowId: run.workflow.id,
			workflowExecuteAdditionalData: additionalData,
		};
		const context = new WebhookContext(run.workflow, node, additionalData, 'webhook', webhookData, [], runExecutionData);
		const result = await nodeType.webhook!.call(context);
		if (!result.noWebhookResponse) res.status(200).json(result.webhookResponse ?? { message: 'Webhook call received' });
		calls.push({ executionId, status: res.statusCode, result });
		if (!result.workflowData) return;

		waiting.delete(executionId);
		const top = runExecutionData.executionData!.nodeExecutionStack[0];
		top.node.disabled = true;
		runExecutionData.waitTill = undefined;
		runExecutionData.resultData.runData[node.name].pop();
		top.data.main = result.workflowData;
		const engine = new WorkflowExecute(run.additionalData, 'webhook', runExecutionData);
		resumed.set(
			executionId,
			engine.processRunExecutionData(run.workflow).then((done) => new WorkflowRun(done, run.workflow, run.additionalData)),
		);
	});

	const server: Server = await new Promise((resolve) => {
		const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
	});
	const { port } = server.address() as { port: number };
	return {
		baseUrl: `http://127.0.0.1:${port}/webhook-waiting`,
		track: (run: WorkflowRun) => waiting.set(run.executionId, run),
		/** The continued execution, once a callback was accepted (the answer goes out before it ends). */
		resumed: (executionId: string) => resumed.get(executionId),
		calls,
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
