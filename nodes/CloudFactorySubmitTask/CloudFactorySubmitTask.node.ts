import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import { connect } from '../shared/connection';
import { configurationIdProperty, actionNodeBasics, optionsCollection } from '../shared/descriptions';
import { runItems } from '../shared/itemRunner';
import type { JsonObject } from '../shared/oversight/client';
import { buildTaskBody } from '../shared/taskBody';
import { taskFieldProperties } from './taskFieldProperties';
import { readTaskFields } from './taskFields';

export class CloudFactorySubmitTask implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'CloudFactory Submit Task',
		name: 'cloudFactorySubmitTask',
		icon: { light: 'file:../../icons/cloudfactory.svg', dark: 'file:../../icons/cloudfactory.dark.svg' },
		...actionNodeBasics,
		subtitle: '={{$parameter["mediaSource"] === "bucket" ? "Submit from mounted bucket" : "Submit uploaded media"}}',
		description: 'Create a CloudFactory Oversight review task for uploaded media or an image in a mounted bucket',
		defaults: { name: 'CloudFactory Submit Task' },
		usableAsTool: true,
		properties: [configurationIdProperty, ...taskFieldProperties, optionsCollection()],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const { client, concurrency } = await connect(this);
		const output = await runItems<JsonObject>(this, concurrency, {
			prepare: async (itemIndex) => buildTaskBody(readTaskFields(this, itemIndex)),
			send: async (body) => ({ result: await client.submitTask(body) }),
		});
		return [output];
	}
}
