import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { Emulator } from '../emulator/emulator';
import { unusedPort } from '../helpers/ports';
import { N8nInstance } from './n8nInstance';
import { ensureN8n, REPO_ROOT } from './n8nRuntime';

const run = promisify(execFile);

export const EXAMPLE_CREDENTIAL = { id: 'cloudfactory-emulator', name: 'CloudFactory (emulator)' };

export const EXAMPLES = {
	uploadSubmitStatus: { file: 'upload-submit-status.json', id: 'cfExampleUpload01' },
	submitAndWait: { file: 'submit-and-wait.json', id: 'cfExampleWait0001' },
	oversightTrigger: { file: 'oversight-trigger.json', id: 'cfExampleTrigger1' },
} as const;

export interface ExampleWorkflow {
	id: string;
	name: string;
	nodes: Array<{ name: string; type: string; webhookId?: string; parameters: Record<string, unknown> }>;
}

export function readExample(example: { file: string; id: string }): ExampleWorkflow {
	const workflow = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', example.file), 'utf8')) as ExampleWorkflow;
	return { ...workflow, id: example.id };
}

/** The package as users get it: the tarball `npm pack` makes from the built dist/. */
export async function packPackage(destination: string): Promise<string> {
	const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', destination], { cwd: REPO_ROOT });
	return join(destination, stdout.trim().split('\n').pop()!);
}

/**
 * A real n8n with this package installed from its tarball, the emulator's credential and the
 * example workflows imported; not started.
 */
export async function prepareN8n(params: {
	emulator: Emulator;
	runtimeName?: string;
	port?: number;
	/** Kept between runs by npm start; a fresh temporary folder otherwise. */
	userFolder?: string;
	/** Extra environment for every n8n command, such as the binary data mode. */
	env?: Record<string, string>;
	log?: (line: string) => void;
}): Promise<N8nInstance> {
	const runtime = await ensureN8n(params.runtimeName, params.log);
	const n8n = new N8nInstance(runtime, params.port ?? (await unusedPort()), await unusedPort(), await unusedPort(), params.env, params.userFolder);
	params.log?.('Installing this package into n8n from its npm pack tarball');
	await n8n.installPackage(await packPackage(n8n.userFolder));
	params.log?.('Importing the emulator credential and the example workflows');
	await n8n.importCredentials([
		{
			...EXAMPLE_CREDENTIAL,
			type: 'cloudFactoryApi',
			data: { apiKey: params.emulator.apiKey, baseUrl: params.emulator.baseUrl, webhookSecret: params.emulator.webhookSecret },
		},
	]);
	for (const example of Object.values(EXAMPLES)) await n8n.importWorkflow(readExample(example));
	return n8n;
}
