import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const RUNTIMES_DIR = join(REPO_ROOT, 'test', 'n8n-runtime');
const CACHE_DIR = join(REPO_ROOT, '.cache');

export interface N8nRuntime {
	name: string;
	version: string;
	/** The n8n CLI entry point, to run with `node`. */
	bin: string;
	dir: string;
}

/**
 * A real n8n, installed from the committed package.json + package-lock.json of
 * test/n8n-runtime/<name> into .cache/<name>-<lockfile hash>, once; later runs reuse it.
 * sqlite3's prebuilt binary cannot be downloaded here, so it is compiled from source.
 */
export async function ensureN8n(name = 'n8n-2.8', log: (line: string) => void = () => {}): Promise<N8nRuntime> {
	const source = join(RUNTIMES_DIR, name);
	const lock = readFileSync(join(source, 'package-lock.json'));
	const dir = join(CACHE_DIR, `${name}-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`);
	const marker = join(dir, '.installed');
	const version = (JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { dependencies: { n8n: string } })
		.dependencies.n8n;
	if (!existsSync(marker)) {
		log(`Installing n8n ${version} into ${dir} (first run only; several minutes)`);
		rmSync(dir, { recursive: true, force: true });
		mkdirSync(dir, { recursive: true });
		copyFileSync(join(source, 'package.json'), join(dir, 'package.json'));
		copyFileSync(join(source, 'package-lock.json'), join(dir, 'package-lock.json'));
		const options = { cwd: dir, maxBuffer: 64 * 1024 * 1024 };
		await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], options);
		await run('npm', ['rebuild', 'sqlite3'], options);
		writeFileSync(marker, new Date().toISOString());
	}
	return { name, version, bin: join(dir, 'node_modules', 'n8n', 'bin', 'n8n'), dir };
}
