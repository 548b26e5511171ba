import type { Server } from 'node:http';

import express from 'express';
import { ExecutionLifecycleHooks, WebhookContext } from 'n8n-core';
import {
	Workflow,
	type ICredentialDataDecryptedObject,
	type INode,
	type IWebhookData,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { additionalDataFor, CREDENTIAL_REF, nodeTypes } from './engine';

/** Like n8n's rawBodyReader and parseBody: the bytes as received in req.rawBody, JSON in req.body. */
export const rawBodyMiddleware = [
	express.raw({ type: () => true, limit: '16mb' }),
	(req: express.Request, _res: express.Response, next: express.NextFunction) => {
		req.rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
		try {
			req.body = req.is('json') ? JSON.parse(req.rawBody.toString('utf8')) : {};
		} catch {
			req.body = {};
		}
		next();
	},
];

export interface WebhookCall {
	path: string;
	status: number;
	result: IWebhookResponseData;
}

/**
 * Serves one webhook node over real HTTP the way n8n's webhook server hands requests to it: the
 * raw body kept as `req.rawBody` and parsed into `req.body`, the node's webhook() called through
 * n8n-core's WebhookContext, and, in responseMode "onReceived", `webhookResponse` sent as the answer
 * unless the node answered itself (`noWebhookResponse`).
 */
export async function serveTriggerNode(params: {
	type: string;
	parameters: INode['parameters'];
	credentials: ICredentialDataDecryptedObject;
}) {
	const node: INode = {
		id: 'trigger',
		name: 'Trigger',
		type: params.type,
		typeVersion: 1,
		position: [0, 0],
		parameters: params.parameters,
		credentials: CREDENTIAL_REF,
		webhookId: 'hook-1',
	};
	const workflow = new Workflow({
		id: 'workflow-trigger',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes,
		staticData: {},
		settings: { executionOrder: 'v1' },
	});
	const nodeType = nodeTypes.getByNameAndVersion(node.type, 1);
	const description = nodeType.description.webhooks![0];
	const calls: WebhookCall[] = [];

	const app = express();
	app.use(rawBodyMiddleware);
	app.all(`/webhook/${node.webhookId}/${description.path as string}`, async (req, res) => {
		if (req.method !== description.httpMethod) {
			res.status(404).json({ message: 'The requested webhook is not registered' });
			return;
		}
		const hooks = new ExecutionLifecycleHooks('webhook', 'webhook-call', {} as never);
		const additionalData = { ...additionalDataFor(params.credentials, 'webhook-call', hooks), httpRequest: req, httpResponse: res };
		const webhookData: IWebhookData = {
			httpMethod: 'POST',
			node: node.name,
			path: description.path as string,
			webhookDescription: description,
			workflowId: workflow.id,
			workflowExecuteAdditionalData: additionalData,
		};
		const context = new WebhookContext(workflow, node, additionalData, 'webhook', webhookData, [], null);
		const result = await nodeType.webhook!.call(context);
		if (!result.noWebhookResponse) res.status(200).json(result.webhookResponse ?? { message: 'Webhook call received' });
		calls.push({ path: req.path, status: res.statusCode, result });
	});

	const server: Server = await new Promise((resolve) => {
		const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
	});
	const { port } = server.address() as { port: number };
	return {
		productionUrl: `http://127.0.0.1:${port}/webhook/${node.webhookId}/${description.path as string}`,
		calls,
		/** The items each accepted callback would start an execution with. */
		started: () => calls.filter((call) => call.result.workflowData).map((call) => call.result.workflowData![0]),
		staticData: workflow.staticData,
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
