import './n8nEnvironment';

import { Container } from '@n8n/di';
import {
	BinaryDataConfig,
	BinaryDataService,
	ExecuteContext,
	ExecutionLifecycleHooks,
	RoutingNode,
	WorkflowExecute,
} from 'n8n-core';
import {
	createEmptyRunExecutionData,
	ICredentialsHelper,
	isExpression,
	NodeHelpers,
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentials,
	type ICredentialType,
	type IDataObject,
	type IHttpRequestOptions,
	type INode,
	type INodeCredentialsDetails,
	type INodeExecutionData,
	type INodeType,
	type INodeTypes,
	type IRun,
	type IRunExecutionData,
	type IWorkflowExecuteAdditionalData,
	type IConnections,
} from 'n8n-workflow';

// Not exported from n8n-core's index; n8n itself stops it when the process shuts down.
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';

import { CloudFactoryApi } from '../../credentials/CloudFactoryApi.credentials';
import { CloudFactoryOversightTrigger } from '../../nodes/CloudFactoryOversightTrigger/CloudFactoryOversightTrigger.node';
import { CloudFactorySubmitTask } from '../../nodes/CloudFactorySubmitTask/CloudFactorySubmitTask.node';
import { CloudFactoryTaskStatus } from '../../nodes/CloudFactoryTaskStatus/CloudFactoryTaskStatus.node';
import { CloudFactoryUploadMedia } from '../../nodes/CloudFactoryUploadMedia/CloudFactoryUploadMedia.node';
import { TestReadFile, TestStart } from './fixtureNodes';

export const NODE_TYPE = {
	start: 'test.testStart',
	readFile: 'test.testReadFile',
	uploadMedia: 'n8n-nodes-cloudfactory.cloudFactoryUploadMedia',
	submitTask: 'n8n-nodes-cloudfactory.cloudFactorySubmitTask',
	taskStatus: 'n8n-nodes-cloudfactory.cloudFactoryTaskStatus',
	oversightTrigger: 'n8n-nodes-cloudfactory.cloudFactoryOversightTrigger',
} as const;

const nodeTypeRegistry: Record<string, INodeType> = {
	[NODE_TYPE.start]: new TestStart(),
	[NODE_TYPE.readFile]: new TestReadFile(),
	[NODE_TYPE.uploadMedia]: new CloudFactoryUploadMedia(),
	[NODE_TYPE.submitTask]: new CloudFactorySubmitTask(),
	[NODE_TYPE.taskStatus]: new CloudFactoryTaskStatus(),
	[NODE_TYPE.oversightTrigger]: new CloudFactoryOversightTrigger(),
};

export const nodeTypes: INodeTypes = {
	getByName: (type) => nodeTypeRegistry[type],
	getByNameAndVersion: (type, version) => NodeHelpers.getVersionedNodeType(nodeTypeRegistry[type], version),
	getKnownTypes: () => ({}),
};

const credentialType: ICredentialType = new CloudFactoryApi();

/**
 * Gives nodes the credential data the test chose, and applies the credential's generic
 * `authenticate` block the way n8n's own CredentialsHelper does (expressions resolved against
 * $credentials, then merged into the request).
 */
class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly data: ICredentialDataDecryptedObject) {
		super();
	}

	getParentTypes(): string[] {
		return [];
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		_typeName: string,
		requestOptions: IHttpRequestOptions,
		workflow: Workflow,
		node: INode,
	): Promise<IHttpRequestOptions> {
		const { authenticate } = credentialType;
		if (!authenticate || typeof authenticate !== 'object') return requestOptions;
		const resolve = (value: string) =>
			isExpression(value)
				? String(workflow.expression.getSimpleParameterValue(node, value, 'internal', { $credentials: credentials }, undefined, '') ?? '')
				: value;
		for (const [target, entries] of Object.entries(authenticate.properties)) {
			const merged = { ...((requestOptions as unknown as Record<string, IDataObject>)[target] ?? {}) };
			for (const [key, value] of Object.entries(entries as Record<string, string>)) merged[resolve(key)] = resolve(value);
			(requestOptions as unknown as Record<string, IDataObject>)[target] = merged;
		}
		return requestOptions;
	}

	async preAuthentication() {
		return undefined;
	}

	async getCredentials(): Promise<ICredentials> {
		throw new Error('Not used by these nodes');
	}

	async getDecrypted(): Promise<ICredentialDataDecryptedObject> {
		return this.data;
	}

	async updateCredentials() {}

	async updateCredentialsOauthTokenData() {}

	getCredentialsProperties() {
		return credentialType.properties;
	}
}

export const CREDENTIAL_REF: Record<string, INodeCredentialsDetails> = {
	cloudFactoryApi: { id: 'cred-1', name: 'CloudFactory (emulator)' },
};

export interface NodeSpec {
	name: string;
	type: string;
	parameters?: INode['parameters'];
	continueOnFail?: boolean;
}

let binaryServiceReady: Promise<void> | undefined;

/** n8n's binary data store, as n8n sets it up at start: 'filesystem' (default) or legacy 'default'. */
export async function useBinaryDataMode(mode: 'filesystem' | 'default'): Promise<void> {
	await binaryServiceReady;
	Container.get(BinaryDataConfig).mode = mode;
	binaryServiceReady = Container.get(BinaryDataService).init();
	await binaryServiceReady;
}

/** What n8n does on shutdown for the services these tests touch, so the test process can exit. */
export function shutdownEngine(): void {
	Container.get(SSHClientsManager).onShutdown();
}

let executionCounter = 0;

export class WorkflowRun {
	constructor(
		readonly run: IRun,
		readonly workflow: Workflow,
		readonly additionalData: IWorkflowExecuteAdditionalData,
	) {}

	get executionId(): string {
		return this.additionalData.executionId!;
	}

	get status() {
		return this.run.status;
	}

	get error() {
		return this.run.data.resultData.error;
	}

	/** Items the node output on its first (main) output, in its first run. */
	output(nodeName: string): INodeExecutionData[] {
		const task = this.run.data.resultData.runData[nodeName]?.[0];
		if (!task) throw new Error(`Node "${nodeName}" did not run (status ${this.status}, error: ${this.error?.message})`);
		return task.data?.main?.[0] ?? [];
	}

	nodeError(nodeName: string) {
		return this.run.data.resultData.runData[nodeName]?.[0]?.error;
	}
}

export function additionalDataFor(
	credentials: ICredentialDataDecryptedObject,
	executionId: string,
	hooks: ExecutionLifecycleHooks,
	webhookWaitingBaseUrl = 'http://127.0.0.1:5678/webhook-waiting',
): IWorkflowExecuteAdditionalData {
	const base = 'http://127.0.0.1:5678';
	return {
		credentialsHelper: new TestCredentialsHelper(credentials),
		hooks,
		executionId,
		currentNodeExecutionIndex: 0,
		restApiUrl: `${base}/rest`,
		instanceBaseUrl: base,
		formWaitingBaseUrl: `${base}/form-waiting`,
		webhookBaseUrl: `${base}/webhook`,
		webhookWaitingBaseUrl,
		webhookTestBaseUrl: `${base}/webhook-test`,
		variables: {},
		setExecutionStatus: () => {},
		executeWorkflow: async () => {
			throw new Error('Sub-workflows are not part of these tests');
		},
		getRunExecutionData: async () => undefined,
		logAiEvent: () => {},
		startRunnerTask: async () => {
			throw new Error('Code runners are not part of these tests');
		},
	} as unknown as IWorkflowExecuteAdditionalData;
}

/**
 * Runs Start -> nodes[0] -> nodes[1] ... in n8n-core's WorkflowExecute, the engine n8n runs.
 */
export async function runWorkflow(
	nodes: NodeSpec[],
	options: {
		input?: INodeExecutionData[];
		credentials: ICredentialDataDecryptedObject;
		/** Where $execution.resumeUrl points: n8n's /webhook-waiting, or a test's waiting-webhook server. */
		webhookWaitingBaseUrl?: string;
	},
): Promise<WorkflowRun> {
	await (binaryServiceReady ??= Container.get(BinaryDataService).init());
	const executionId = `exec-${++executionCounter}`;
	const allNodes: INode[] = [
		{ id: 'start', name: 'Start', type: NODE_TYPE.start, typeVersion: 1, position: [0, 0], parameters: {} },
		...nodes.map((spec, index) => ({
			id: `node-${index}`,
			name: spec.name,
			type: spec.type,
			typeVersion: 1,
			position: [(index + 1) * 200, 0] as [number, number],
			parameters: spec.parameters ?? {},
			credentials: spec.type.startsWith('n8n-nodes-cloudfactory.') ? CREDENTIAL_REF : undefined,
			continueOnFail: spec.continueOnFail,
		})),
	];
	const connections: IConnections = {};
	for (let index = 0; index < allNodes.length - 1; index++) {
		connections[allNodes[index].name] = { main: [[{ node: allNodes[index + 1].name, type: 'main', index: 0 }]] };
	}
	const workflow = new Workflow({
		id: 'workflow-1',
		nodes: allNodes,
		connections,
		active: false,
		nodeTypes,
		settings: { executionOrder: 'v1' },
	});
	const hooks = new ExecutionLifecycleHooks('manual', executionId, {
		id: 'workflow-1',
		name: 'test',
		nodes: allNodes,
		connections,
		active: false,
		activeVersionId: null,
		isArchived: false,
		createdAt: new Date(),
		updatedAt: new Date(),
	});
	const runExecutionData = {
		resultData: { runData: {} },
		executionData: {
			contextData: {},
			metadata: {},
			nodeExecutionStack: [{ node: allNodes[0], data: { main: [options.input ?? [{ json: {} }]] }, source: null }],
			waitingExecution: {},
			waitingExecutionSource: {},
		},
	} as unknown as IRunExecutionData;
	const additionalData = additionalDataFor(options.credentials, executionId, hooks, options.webhookWaitingBaseUrl);
	const engine = new WorkflowExecute(additionalData, 'manual', runExecutionData);
	return new WorkflowRun(await engine.processRunExecutionData(workflow), workflow, additionalData);
}

/**
 * What n8n's wait tracker does when a waiting execution's time is up: it runs it again as it
 * stands, and n8n-core's engine skips the waiting node, passing its input on.
 */
export async function resumeAfterWaitLimit(waiting: WorkflowRun): Promise<WorkflowRun> {
	const engine = new WorkflowExecute(waiting.additionalData, 'trigger', waiting.run.data);
	return new WorkflowRun(await engine.processRunExecutionData(waiting.workflow), waiting.workflow, waiting.additionalData);
}

/**
 * Runs the credential's `test` request through n8n-core's RoutingNode, the same machinery n8n's
 * credential tester uses, and returns the HTTP status (200 when the request succeeded).
 */
export async function runCredentialTestRequest(credentials: ICredentialDataDecryptedObject): Promise<number> {
	const test = credentialType.test!;
	const probeType: INodeType = {
		description: {
			displayName: 'Credential probe',
			name: 'credentialProbe',
			group: ['transform'],
			version: 1,
			description: '',
			defaults: {},
			inputs: [],
			outputs: [],
			credentials: [{ name: credentialType.name, required: true }],
			properties: [
				{ displayName: 'Temp', name: 'temp', type: 'string', default: '', routing: { request: test.request } },
			],
		},
	};
	const node: INode = {
		id: 'probe',
		name: 'Probe',
		type: 'test.credentialProbe',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
		credentials: CREDENTIAL_REF,
	};
	const workflow = new Workflow({
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: {
			getByName: () => probeType,
			getByNameAndVersion: () => probeType,
			getKnownTypes: () => ({}),
		},
	});
	const hooks = new ExecutionLifecycleHooks('internal', 'credential-test', {} as never);
	const context = new ExecuteContext(
		workflow,
		node,
		additionalDataFor(credentials, 'credential-test', hooks),
		'internal',
		createEmptyRunExecutionData(),
		0,
		[],
		{ main: [[{ json: {} }]] },
		{ node, data: {}, source: null },
		[],
	);
	try {
		await new RoutingNode(context, probeType, { id: 'cred-1', name: 'probe', type: credentialType.name, data: credentials }).runNode();
		return 200;
	} catch (error) {
		const { httpCode } = error as { httpCode?: string | null };
		if (httpCode) return Number(httpCode);
		throw error;
	}
}
