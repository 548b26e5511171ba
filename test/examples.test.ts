import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { INode, INodeProperties, IWorkflowBase } from 'n8n-workflow';

import { nodeTypes } from './harness/engine';

const examplesDir = join(__dirname, '..', '..', 'examples');
const PACKAGE_PREFIX = 'n8n-nodes-cloudfactory.';

/** Names used in `parameters` that the node's description does not define (typos, renamed fields). */
function unknownParameters(values: Record<string, unknown>, properties: INodeProperties[], path = ''): string[] {
	const problems: string[] = [];
	for (const [name, value] of Object.entries(values)) {
		const property = properties.find((candidate) => candidate.name === name);
		if (!property) {
			problems.push(`${path}${name}`);
			continue;
		}
		if (property.type === 'collection' && value && typeof value === 'object') {
			problems.push(...unknownParameters(value as Record<string, unknown>, property.options as INodeProperties[], `${path}${name}.`));
		}
	}
	return problems;
}

describe('examples/', () => {
	const files = readdirSync(examplesDir).filter((file) => file.endsWith('.json'));

	it('has the three documented workflows', () => {
		assert.deepEqual(files.sort(), ['oversight-trigger.json', 'submit-and-wait.json', 'upload-submit-status.json']);
	});

	for (const file of files) {
		it(`${file} uses this package's nodes with parameters they define, and connects every node`, () => {
			const workflow = JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as IWorkflowBase;
			const ours = workflow.nodes.filter((node: INode) => node.type.startsWith(PACKAGE_PREFIX));
			assert.ok(ours.length > 0);
			for (const node of ours) {
				const description = nodeTypes.getByNameAndVersion(node.type, node.typeVersion).description;
				assert.deepEqual(unknownParameters(node.parameters, description.properties), [], `${file}: ${node.name}`);
				assert.deepEqual(Object.keys(node.credentials ?? {}), ['cloudFactoryApi'], `${file}: ${node.name} credential`);
				if (description.webhooks) assert.ok(node.webhookId, `${file}: ${node.name} needs a webhookId`);
			}
			const targets = Object.values(workflow.connections).flatMap((output) => output.main.flat().map((c) => c!.node));
			const sources = Object.keys(workflow.connections);
			for (const node of workflow.nodes) {
				assert.ok(targets.includes(node.name) || sources.includes(node.name), `${file}: ${node.name} is connected`);
			}
		});
	}
});
