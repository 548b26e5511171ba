import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const RUNTIMES_DIR = join(REPO_ROOT, 'test', 'n8n-runtime');
const CACHE_DIR = join(REPO_ROOT, '.cache');

export interface N8nRuntime {
	name: string;
	version: string;
	/** The Node.js binary that runs this n8n. */
	node: string;
	/** The n8n CLI entry point, run with `node`. */
	bin: string;
	dir: string;
}

/** The `e2eRuntime` section of a test/n8n-runtime/<name>/package.json. */
interface RuntimeSpec {
	dependencies: { n8n: string };
	e2eRuntime: {
		/** A Node.js binary installed by this runtime's own dependencies; else the current one. */
		node?: string;
		/** That Node's headers, for native modules. */
		nodedir?: string;
		/** Native modules to compile: their prebuilt binaries cannot be downloaded here. */
		rebuild: string[];
	};
}

/**
 * A real n8n, installed from the committed package.json + package-lock.json of
 * test/n8n-runtime/<name> into .cache/<name>-<lockfile hash>, once; later runs reuse it.
 */
export async function ensureN8n(name = 'n8n-2.8', log: (line: string) => void = () => {}): Promise<N8nRuntime> {
	const source = join(RUNTIMES_DIR, name);
	const lock = readFileSync(join(source, 'package-lock.json'));
	const spec = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as RuntimeSpec;
	const dir = join(CACHE_DIR, `${name}-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`);
	const node = spec.e2eRuntime.node ? join(dir, spec.e2eRuntime.node) : process.execPath;
	const marker = join(dir, '.installed');
	if (!existsSync(marker)) {
		log(`Installing n8n ${spec.dependencies.n8n} into ${dir} (first run only; several minutes)`);
		rmSync(dir, { recursive: true, force: true });
		mkdirSync(dir, { recursive: true });
		copyFileSync(join(source, 'package.json'), join(dir, 'package.json'));
		copyFileSync(join(source, 'package-lock.json'), join(dir, 'package-lock.json'));
		const options = { cwd: dir, maxBuffer: 64 * 1024 * 1024 };
		// No install scripts: some fetch prebuilt binaries from hosts this machine cannot reach.
		await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], options);
		const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` };
		if (spec.e2eRuntime.nodedir) Object.assign(env, { npm_config_nodedir: join(dir, spec.e2eRuntime.nodedir) });
		await run('npm', ['rebuild', ...spec.e2eRuntime.rebuild], { ...options, env });
		writeFileSync(marker, new Date().toISOString());
	}
	return { name, version: spec.dependencies.n8n, node, bin: join(dir, 'node_modules', 'n8n', 'bin', 'n8n'), dir };
}
