import assert from 'node:assert/strict';

import type { ICredentialDataDecryptedObject, INodeExecutionData } from 'n8n-workflow';

import type { Emulator, FaultRoute, RecordedRequest } from '../emulator/emulator';
import { NODE_TYPE, type NodeSpec, type WorkflowRun } from '../harness/engine';
import type { startWaitingWebhookServer } from '../harness/waitingWebhookServer';
import type { Scope } from './report';

/** Distinctive, so that the secret scan cannot miss them (nor confuse them with other text). */
export const API_KEY = 'RELIABILITY-API-KEY-7f3a9c51e2';
export const WEBHOOK_SECRET = 'RELIABILITY-WEBHOOK-SECRET-2b8e44d0';
export const OTHER_CREDENTIAL_SECRET = 'OTHER-CREDENTIAL-SECRET-91d4c7a3';

export interface Env {
	emulator: Emulator;
	imagePath: string;
	waiting: Awaited<ReturnType<typeof startWaitingWebhookServer>>;
}

export function credentialsFor(env: Env, overrides: Partial<Record<string, string>> = {}): ICredentialDataDecryptedObject {
	return { apiKey: API_KEY, baseUrl: env.emulator.baseUrl, webhookSecret: WEBHOOK_SECRET, ...overrides } as ICredentialDataDecryptedObject;
}

export const readFileNode = (filePath: string, mimeType = ''): NodeSpec => ({
	name: 'Read File',
	type: NODE_TYPE.readFile,
	parameters: { filePath, mimeType },
});

type Parameters = Record<string, unknown>;

export const uploadNode = (parameters: Parameters, continueOnFail: boolean): NodeSpec => ({
	name: 'Upload',
	type: NODE_TYPE.uploadMedia,
	parameters: { configurationId: 'config-1', binaryPropertyName: 'data', ...parameters } as NodeSpec['parameters'],
	continueOnFail,
});

/** Mounted-bucket mode, so a task needs no upload first; one distinct image per item. */
export const submitNode = (parameters: Parameters, continueOnFail: boolean): NodeSpec => ({
	name: 'Submit',
	type: NODE_TYPE.submitTask,
	parameters: {
		configurationId: 'config-1',
		mediaSource: 'bucket',
		bucketId: 'bucket-1',
		mediaKey: '={{ "cameras/" + $json.n + ".jpg" }}',
		mediaType: 'image',
		...parameters,
	} as NodeSpec['parameters'],
	continueOnFail,
});

export const statusNode = (parameters: Parameters, continueOnFail: boolean): NodeSpec => ({
	name: 'Status',
	type: NODE_TYPE.taskStatus,
	parameters: parameters as NodeSpec['parameters'],
	continueOnFail,
});

export const numberedItems = (count: number): INodeExecutionData[] =>
	Array.from({ length: count }, (_, n) => ({ json: { n } }));

export function matchesRoute(request: RecordedRequest, route: FaultRoute): boolean {
	if (route === 'PUT upload') return request.host === 'upload';
	if (request.host !== 'api') return false;
	const [method, path] = route.split(' ');
	if (path === '/v1/tasks/:id') return request.method === method && request.path.startsWith('/v1/tasks/');
	return request.method === method && request.path === path;
}

/** Tasks made straight through the API (mounted bucket), for the cases that read them. */
export async function createTasks(env: Env, count: number): Promise<string[]> {
	const ids: string[] = [];
	for (let n = 0; n < count; n++) {
		const answer = await fetch(`${env.emulator.baseUrl}/v1/tasks`, {
			method: 'POST',
			headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
			body: JSON.stringify({ configuration_id: 'config-1', media_key: `setup/${n}.jpg`, bucket_id: 'bucket-1', media_type: 'image' }),
		});
		ids.push(((await answer.json()) as { task_id: string }).task_id);
	}
	return ids;
}

export interface NodeOutcome {
	/** The node's output items; empty when the node stopped the workflow. */
	items: INodeExecutionData[];
	errorMessage?: string;
	errorDescription?: string;
}

/**
 * What the user sees of one node: its items, or the error that stopped the workflow. Everything
 * in the run's data (outputs, errors with their descriptions) is handed to the secret scan.
 */
export function nodeOutcome(run: WorkflowRun, nodeName: string, scope: Scope): NodeOutcome {
	scope.exposed('the run data (outputs and errors)', run.run.data);
	if (run.status === 'success' || run.status === 'waiting') return { items: run.output(nodeName) };
	assert.equal(run.status, 'error', `unexpected run status ${run.status}`);
	const error = run.error!;
	return { items: [], errorMessage: error.message, errorDescription: String(error.description ?? '') };
}

/** "Item 0: …" of each error item, in output order; undefined for a good item. */
export function errorItems(items: INodeExecutionData[]): Array<{ index: number; message: string; description: string }> {
	return items.flatMap((item, index) =>
		item.json.error === undefined ? [] : [{ index, message: String(item.json.error), description: String(item.json.description ?? '') }],
	);
}

export function assertPairedInOrder(items: INodeExecutionData[], count: number): void {
	assert.equal(items.length, count, 'one output item per input item');
	assert.deepEqual(
		items.map((item) => item.pairedItem),
		Array.from({ length: count }, (_, item) => ({ item })),
		'each output item is paired to its input item, in input order',
	);
}

/** Long messages make long rows: the report keeps the first part. */
export function short(text: string | undefined, length = 140): string {
	if (text === undefined) return '';
	return text.length > length ? `${text.slice(0, length)}…` : text;
}
