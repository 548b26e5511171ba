import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { REPO_ROOT } from '../test/e2e/n8nRuntime';
import { median } from './stats';

const run = promisify(execFile);

const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
	n8n: { nodes: string[]; credentials: string[] };
};

export interface RequireCost {
	file: string;
	medianMs: number;
}

export interface PackageCost {
	perFile: RequireCost[];
	allTogetherMs: number;
	/** The same measurement for n8n's own HTTP Request node, as a yardstick. */
	httpRequestNodeMs: number;
	tarballBytes: number;
	unpackedBytes: number;
	files: number;
	unwantedFiles: string[];
}

/**
 * A fresh Node process per measurement, as when n8n starts: n8n-workflow is loaded first (n8n has
 * it loaded already), then only the files under test are timed.
 */
async function coldRequireMs(files: string[], resolveFrom: string): Promise<number> {
	const script = `
		const { createRequire } = require('node:module');
		const load = createRequire(${JSON.stringify(resolveFrom)});
		load('n8n-workflow');
		const started = process.hrtime.bigint();
		for (const file of ${JSON.stringify(files)}) load(file);
		process.stdout.write(String(Number(process.hrtime.bigint() - started) / 1e6));
	`;
	const { stdout } = await run(process.execPath, ['-e', script]);
	return Number(stdout);
}

async function medianOf(repeats: number, measure: () => Promise<number>): Promise<number> {
	const values: number[] = [];
	for (let index = 0; index < repeats; index++) values.push(await measure());
	return median(values);
}

export async function packageCost(params: { repeats: number; n8nBaseNodesDir: string }): Promise<PackageCost> {
	const builtFiles = [...PACKAGE.n8n.nodes, ...PACKAGE.n8n.credentials].map((file) => join(REPO_ROOT, file));
	const fromRepo = join(REPO_ROOT, 'package.json');
	const perFile: RequireCost[] = [];
	for (const file of builtFiles) {
		perFile.push({ file: file.slice(REPO_ROOT.length + 1), medianMs: await medianOf(params.repeats, () => coldRequireMs([file], fromRepo)) });
	}
	const allTogetherMs = await medianOf(params.repeats, () => coldRequireMs(builtFiles, fromRepo));
	const httpRequestNode = join(params.n8nBaseNodesDir, 'dist', 'nodes', 'HttpRequest', 'HttpRequest.node.js');
	const httpRequestNodeMs = await medianOf(params.repeats, () => coldRequireMs([httpRequestNode], join(params.n8nBaseNodesDir, 'package.json')));

	const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT });
	const [packed] = JSON.parse(stdout) as Array<{ size: number; unpackedSize: number; files: Array<{ path: string }> }>;
	const unwantedFiles = packed.files.map((entry) => entry.path).filter((path) => /(\.map$|^test\/|^build\/|^bench\/|emulator|\.ts$)/.test(path) && !path.endsWith('.d.ts'));
	return { perFile, allTogetherMs, httpRequestNodeMs, tarballBytes: packed.size, unpackedBytes: packed.unpackedSize, files: packed.files.length, unwantedFiles };
}
