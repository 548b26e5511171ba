import { NodeConnectionTypes, type INodeProperties, type INodeTypeDescription } from 'n8n-workflow';

import { CLOUDFACTORY_CREDENTIAL_TYPE } from '../../credentials/CloudFactoryApi.credentials';
import { MAX_CONCURRENCY } from './connection';

/** What the action nodes' descriptions share, beside the fields n8n's linter wants written out. */
export const actionNodeBasics: Pick<INodeTypeDescription, 'group' | 'version' | 'inputs' | 'outputs' | 'credentials'> = {
	group: ['transform'],
	version: 1,
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main],
	credentials: [{ name: CLOUDFACTORY_CREDENTIAL_TYPE, required: true }],
};

export const configurationIdProperty: INodeProperties = {
	displayName: 'Configuration ID',
	name: 'configurationId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e3404e84-db35-43a4-9144-d3588a4beb28',
	description: 'The review configuration CloudFactory set up for you. Use the same one for the upload and for the task.',
};

const concurrencyOption: INodeProperties = {
	displayName: 'Concurrency',
	name: 'concurrency',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: MAX_CONCURRENCY },
	default: 4,
	description: 'How many items are sent to CloudFactory at the same time',
};

const timeoutOption: INodeProperties = {
	displayName: 'Timeout',
	name: 'timeout',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: 3600 },
	default: 60,
	description: 'Seconds to wait for an answer, and the longest pause allowed while one arrives or a file uploads',
};

/** The node's Options collection: its own options first, then the ones every node shares. */
export function optionsCollection(own: INodeProperties[] = []): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [...own, concurrencyOption, timeoutOption],
	};
}
