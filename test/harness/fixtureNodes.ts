import { createReadStream } from 'node:fs';
import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

/** Where a test workflow starts: it hands on the items the test put in front of it. */
export class TestStart implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Test Start',
		name: 'testStart',
		group: ['trigger'],
		version: 1,
		description: 'Starts a test workflow with the given items',
		defaults: { name: 'Start' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData()];
	}
}

/**
 * Puts a file from disk into every item through n8n's own prepareBinaryData, so the binary lands
 * in n8n's binary data store (on disk in filesystem mode), as a Read File node would put it.
 */
export class TestReadFile implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Test Read File',
		name: 'testReadFile',
		group: ['input'],
		version: 1,
		description: 'Reads a file into binary property "data"',
		defaults: { name: 'Read File' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{ displayName: 'File Path', name: 'filePath', type: 'string', default: '' },
			{ displayName: 'Binary Property', name: 'binaryPropertyName', type: 'string', default: 'data' },
			{ displayName: 'MIME Type', name: 'mimeType', type: 'string', default: '' },
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const output: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			const filePath = this.getNodeParameter('filePath', itemIndex) as string;
			const property = this.getNodeParameter('binaryPropertyName', itemIndex) as string;
			const mimeType = (this.getNodeParameter('mimeType', itemIndex) as string) || undefined;
			const binary = await this.helpers.prepareBinaryData(createReadStream(filePath), filePath, mimeType);
			output.push({
				json: items[itemIndex].json,
				binary: { ...items[itemIndex].binary, [property]: binary },
				pairedItem: { item: itemIndex },
			});
		}
		return [output];
	}
}
