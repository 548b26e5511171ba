import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

export const scratchDir = mkdtempSync(join(tmpdir(), 'cf-test-files-'));

/**
 * Writes `size` bytes of a non-repeating-looking pattern (a counter run through SHA-256), so that
 * a lost, doubled or reordered chunk changes the file's hash.
 */
export async function writeTestFile(name: string, size: number): Promise<string> {
	const path = join(scratchDir, name);
	const out = createWriteStream(path);
	const block = Buffer.alloc(1024 * 1024);
	let written = 0;
	let counter = 0;
	while (written < size) {
		for (let offset = 0; offset < block.length; offset += 32) {
			createHash('sha256').update(`${name}:${counter++}`).digest().copy(block, offset);
		}
		const chunk = block.subarray(0, Math.min(block.length, size - written));
		written += chunk.length;
		if (!out.write(chunk)) await once(out, 'drain');
	}
	out.end();
	await once(out, 'finish');
	return path;
}

export async function sha256OfFile(path: string): Promise<string> {
	const hash = createHash('sha256');
	for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
	return hash.digest('hex');
}

export function sha256(data: Buffer | string): string {
	return createHash('sha256').update(data).digest('hex');
}
