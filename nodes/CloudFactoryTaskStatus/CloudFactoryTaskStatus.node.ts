import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import { connect } from '../shared/connection';
import { actionNodeBasics, optionsCollection } from '../shared/descriptions';
import { runNode } from '../shared/itemRunner';
import { ItemParameters } from '../shared/parameters';

/** Task IDs are UUIDs; this leaves room for any other scheme while keeping the URL sendable. */
const MAX_TASK_ID_LENGTH = 1024;

export class CloudFactoryTaskStatus implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'CloudFactory Task Status',
		name: 'cloudFactoryTaskStatus',
		icon: { light: 'file:../../icons/cloudfactory.svg', dark: 'file:../../icons/cloudfactory.dark.svg' },
		...actionNodeBasics,
		subtitle: 'Get task state',
		description: 'Get the state and the reviewed inferences of a CloudFactory Oversight task',
		defaults: { name: 'CloudFactory Task Status' },
		usableAsTool: true,
		properties: [
			{
				displayName: 'Task ID',
				name: 'taskId',
				type: 'string',
				required: true,
				default: '={{ $json.task_id }}',
				description: 'The task_id that CloudFactory Submit Task output',
			},
			optionsCollection(),
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const output = await runNode<string>(this, async () => {
			const { client, concurrency } = await connect(this);
			return {
				concurrency,
				prepare: async (itemIndex) => {
					const params = new ItemParameters(this, itemIndex);
					const taskId = params.requiredText('taskId', 'Task ID');
					// "." and ".." would still climb the path after encoding; everything else is encoded.
					if (/^\.+$/.test(taskId) || hasControlCharacter(taskId)) {
						throw params.invalid('Task ID', `${JSON.stringify(taskId)} is not a task ID`);
					}
					// Servers refuse URLs of a few KiB (Node's own limit is 16 KiB of headers): say so before sending.
					if (taskId.length > MAX_TASK_ID_LENGTH) {
						throw params.invalid('Task ID', `is longer than ${MAX_TASK_ID_LENGTH} characters (${taskId.length})`);
					}
					return taskId;
				},
				send: async (taskId) => ({ result: await client.getTask(taskId) }),
			};
		});
		return [output];
	}
}

function hasControlCharacter(text: string): boolean {
	return [...text].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f);
}
