import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { Emulator } from '../test/emulator/emulator';
import type { BenchN8n } from './benchN8n';
import { RssSampler } from './processMemory';
import { MiB } from './stats';
import type { BenchWorkflow } from './workflows';

const run = promisify(execFile);

export type UploadContender = 'Upload Media' | 'HTTP Request nodes' | 'curl -T';

export interface UploadSample {
	contender: UploadContender;
	sizeBytes: number;
	seconds: number;
	/**
	 * Peak RSS of the n8n process while the upload nodes ran, minus its RSS when the run began;
	 * undefined for curl, which runs outside n8n.
	 */
	memoryGrowthBytes?: number;
}

export const CONFIGURATION_ID = 'bench-config';

/** Random bytes, so nothing on the way can compress them; made once and kept in .cache. */
export async function benchFile(directory: string, sizeBytes: number): Promise<{ path: string; sha256: string }> {
	const path = join(directory, `bench-${sizeBytes / MiB}MiB.mp4`);
	if (!existsSync(path) || statSync(path).size !== sizeBytes) {
		const out = createWriteStream(path);
		const block = randomBytes(4 * MiB);
		for (let written = 0; written < sizeBytes; written += block.length) {
			if (!out.write(block.subarray(0, Math.min(block.length, sizeBytes - written)))) {
				await once(out, 'drain');
			}
		}
		await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
	}
	const hash = createHash('sha256');
	for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
	return { path, sha256: hash.digest('hex') };
}

function emptyDirectory(directory: string): void {
	for (const entry of readdirSync(directory)) rmSync(join(directory, entry), { recursive: true, force: true });
}

function checkArrived(emulator: Emulator, file: { sha256: string }, sizeBytes: number, contender: UploadContender): void {
	const arrived = [...emulator.uploads.values()].filter((upload) => upload.sha256 === file.sha256 && upload.size === sizeBytes);
	if (arrived.length !== 1) throw new Error(`${contender}: expected the file to arrive intact once, found ${arrived.length} intact uploads`);
}

/** One upload through an n8n workflow; the measured nodes' execution times are the upload time. */
export async function uploadThroughN8n(params: {
	n8n: BenchN8n;
	emulator: Emulator;
	workflow: BenchWorkflow;
	contender: UploadContender;
	file: { path: string; sha256: string };
	sizeBytes: number;
	/** Where n8n keeps binary data: emptied after the run. */
	binaryDataDir: string;
}): Promise<UploadSample> {
	const { n8n, emulator, workflow, contender } = params;
	emulator.reset();
	const sampler = new RssSampler(n8n.pid);
	sampler.start();
	let result;
	try {
		result = await n8n.run(workflow, { path: params.file.path });
	} finally {
		sampler.stop();
		emptyDirectory(params.binaryDataDir);
	}
	let milliseconds = 0;
	let peak = sampler.first();
	for (const name of workflow.measuredNodes) {
		const node = result.nodes[name];
		if (!node || node.error) throw new Error(`${contender}: node "${name}" failed: ${node?.error?.message ?? 'did not run'}`);
		milliseconds += node.executionTime;
		peak = Math.max(peak, sampler.peakDuring(node.startTime, node.startTime + node.executionTime));
	}
	checkArrived(emulator, params.file, params.sizeBytes, contender);
	return { contender, sizeBytes: params.sizeBytes, seconds: milliseconds / 1000, memoryGrowthBytes: peak - sampler.first() };
}

/** The machine's limit: curl PUTs the same file to the same upload host, after the URL is asked for. */
export async function uploadWithCurl(params: { emulator: Emulator; file: { path: string; sha256: string }; sizeBytes: number }): Promise<UploadSample> {
	const { emulator } = params;
	emulator.reset();
	const response = await fetch(`${emulator.baseUrl}/v1/media`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
		body: JSON.stringify({ configuration_id: CONFIGURATION_ID, file_name: 'bench.mp4', content_type: 'video/mp4' }),
	});
	const { media_upload_url: uploadUrl } = (await response.json()) as { media_upload_url: string };
	const { stdout } = await run('curl', [
		'--silent',
		'--show-error',
		'--fail',
		'--upload-file',
		params.file.path,
		'--header',
		'Content-Type: video/mp4',
		'--output',
		'/dev/null',
		'--write-out',
		'%{time_total}',
		uploadUrl,
	]);
	checkArrived(emulator, params.file, params.sizeBytes, 'curl -T');
	return { contender: 'curl -T', sizeBytes: params.sizeBytes, seconds: Number(stdout.trim()) };
}
