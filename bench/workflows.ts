import { EXAMPLE_CREDENTIAL } from '../test/e2e/scenario';

/** Workflows the benchmarks import into n8n: each starts with a Webhook that answers when the last node finishes. */

interface BenchNode {
	name: string;
	type: string;
	typeVersion: number;
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
	webhookId?: string;
}

export interface BenchWorkflow {
	id: string;
	name: string;
	/** Production webhook path: POST {n8n}/webhook/{path}. */
	path: string;
	/** The nodes whose execution time is the contender's time. */
	measuredNodes: string[];
	json: object;
}

const cloudFactoryCredential = { cloudFactoryApi: EXAMPLE_CREDENTIAL };

function webhook(path: string, responseMode: 'lastNode' | 'onReceived' = 'lastNode'): BenchNode {
	return {
		name: 'Webhook',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		parameters: { httpMethod: 'POST', path, responseMode, options: {} },
		webhookId: path,
	};
}

/** A chain: every node feeds the next. */
function workflow(id: string, name: string, path: string, measuredNodes: string[], nodes: BenchNode[]): BenchWorkflow {
	const connections: Record<string, unknown> = {};
	for (let index = 0; index + 1 < nodes.length; index++) {
		connections[nodes[index].name] = { main: [[{ node: nodes[index + 1].name, type: 'main', index: 0 }]] };
	}
	const positioned = nodes.map((node, index) => ({ id: `${id}-${index}`, position: [index * 220, 0], ...node }));
	return {
		id,
		name,
		path,
		measuredNodes,
		json: { name, nodes: positioned, connections, settings: { executionOrder: 'v1' } },
	};
}

/** An HTTP Request node calling the Oversight API as a user would set it up: the key as a header, a JSON body. */
function apiPostNode(params: { name: string; url: string; apiKey: string; jsonBody: string; options?: Record<string, unknown> }): BenchNode {
	return {
		name: params.name,
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		parameters: {
			method: 'POST',
			url: params.url,
			sendHeaders: true,
			headerParameters: { parameters: [{ name: 'x-api-key', value: params.apiKey }] },
			sendBody: true,
			specifyBody: 'json',
			jsonBody: params.jsonBody,
			options: params.options ?? {},
		},
	};
}

const readFile: BenchNode = {
	name: 'Read File',
	type: 'n8n-nodes-base.readWriteFile',
	typeVersion: 1,
	parameters: { operation: 'read', fileSelector: '={{ $json.body.path }}', options: {} },
};

export function uploadMediaWorkflow(configurationId: string): BenchWorkflow {
	return workflow('benchUploadMedia', 'bench: Upload Media', 'bench-upload-media', ['Upload Media'], [
		webhook('bench-upload-media'),
		readFile,
		{
			name: 'Upload Media',
			type: 'n8n-nodes-cloudfactory.cloudFactoryUploadMedia',
			typeVersion: 1,
			parameters: { configurationId, binaryPropertyName: 'data' },
			credentials: cloudFactoryCredential,
		},
	]);
}

/**
 * What a user builds without this package: one HTTP Request asks for the upload URL, Read File
 * loads the file, a second HTTP Request PUTs it (n8n's streaming binary body).
 */
export function httpRequestUploadWorkflow(params: { baseUrl: string; apiKey: string; configurationId: string }): BenchWorkflow {
	return workflow('benchUploadHttpReq', 'bench: upload with HTTP Request', 'bench-upload-http', ['Request Upload URL', 'PUT File'], [
		webhook('bench-upload-http'),
		apiPostNode({
			name: 'Request Upload URL',
			url: `${params.baseUrl}/v1/media`,
			apiKey: params.apiKey,
			jsonBody: `={{ JSON.stringify({ configuration_id: '${params.configurationId}', file_name: $json.body.path.split('/').pop(), content_type: 'video/mp4' }) }}`,
		}),
		{ ...readFile, parameters: { ...readFile.parameters, fileSelector: "={{ $('Webhook').item.json.body.path }}", options: { mimeType: 'video/mp4' } } },
		{
			name: 'PUT File',
			type: 'n8n-nodes-base.httpRequest',
			typeVersion: 4.2,
			parameters: {
				method: 'PUT',
				url: "={{ $('Request Upload URL').item.json.media_upload_url }}",
				sendBody: true,
				contentType: 'binaryData',
				inputDataFieldName: 'data',
				options: {},
			},
		},
	]);
}

const splitItems: BenchNode = {
	name: 'Split Items',
	type: 'n8n-nodes-base.splitOut',
	typeVersion: 1,
	parameters: { fieldToSplitOut: 'body.items', options: {} },
};

export function submitTaskWorkflow(params: { id: string; name: string; configurationId: string; concurrency?: number }): BenchWorkflow {
	const path = `bench-submit-${params.id}`;
	return workflow(params.id, params.name, path, ['Submit Task'], [
		webhook(path),
		splitItems,
		{
			name: 'Submit Task',
			type: 'n8n-nodes-cloudfactory.cloudFactorySubmitTask',
			typeVersion: 1,
			parameters: {
				mediaSource: 'bucket',
				mediaKey: '={{ $json.path }}',
				bucketId: 'bench-bucket',
				mediaType: 'image',
				configurationId: params.configurationId,
				options: params.concurrency === undefined ? {} : { concurrency: params.concurrency },
			},
			credentials: cloudFactoryCredential,
		},
	]);
}

export function httpRequestSubmitWorkflow(params: {
	id: string;
	name: string;
	baseUrl: string;
	apiKey: string;
	configurationId: string;
	batching?: { batchSize: number; batchInterval: number };
}): BenchWorkflow {
	const path = `bench-submit-${params.id}`;
	return workflow(params.id, params.name, path, ['Create Task'], [
		webhook(path),
		splitItems,
		apiPostNode({
			name: 'Create Task',
			url: `${params.baseUrl}/v1/tasks`,
			apiKey: params.apiKey,
			jsonBody: `={{ JSON.stringify({ media_key: $json.path, bucket_id: 'bench-bucket', media_type: 'image', configuration_id: '${params.configurationId}' }) }}`,
			options: params.batching ? { batching: { batch: params.batching } } : {},
		}),
	]);
}

export function triggerWorkflow(webhookId: string): BenchWorkflow {
	return workflow('benchTrigger00001', 'bench: Oversight Trigger', `${webhookId}/webhook`, [], [
		{
			name: 'Oversight Trigger',
			type: 'n8n-nodes-cloudfactory.cloudFactoryOversightTrigger',
			typeVersion: 1,
			parameters: { options: {} },
			credentials: cloudFactoryCredential,
			webhookId,
		},
		{ name: 'Reviewed Task', type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} },
	]);
}

/** The yardstick for the trigger: n8n's own Webhook node, answering on receipt, in the same shape of workflow. */
export function webhookBaselineWorkflow(): BenchWorkflow {
	return workflow('benchWebhookBase1', 'bench: n8n Webhook node', 'bench-webhook-baseline', [], [
		webhook('bench-webhook-baseline', 'onReceived'),
		{ name: 'Received', type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} },
	]);
}
