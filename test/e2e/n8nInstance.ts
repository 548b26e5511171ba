import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { N8nRuntime } from './n8nRuntime';

const run = promisify(execFile);

export interface ExecutionResult {
	status: string;
	data: { resultData: { runData: Record<string, Array<{ data?: { main?: Array<Array<{ json: Record<string, unknown> }>> } }>>; error?: { message: string } } };
}

/**
 * A private, headless n8n: its own user folder and sqlite database, listening on 127.0.0.1 only.
 */
export class N8nInstance {
	readonly userFolder: string;

	readonly baseUrl: string;

	private server?: ChildProcess;

	private output = '';

	constructor(
		readonly runtime: N8nRuntime,
		readonly port: number,
		private readonly brokerPort: number,
		private readonly cliBrokerPort: number,
		private readonly extraEnv: Record<string, string> = {},
		userFolder?: string,
	) {
		this.baseUrl = `http://127.0.0.1:${port}`;
		this.userFolder = userFolder ?? mkdtempSync(join(tmpdir(), 'cf-n8n-e2e-'));
		mkdirSync(this.userFolder, { recursive: true });
	}

	env(): NodeJS.ProcessEnv {
		return {
			...process.env,
			N8N_USER_FOLDER: this.userFolder,
			N8N_ENCRYPTION_KEY: 'cloudfactory-e2e-encryption-key',
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_PORT: String(this.port),
			WEBHOOK_URL: `${this.baseUrl}/`,
			N8N_RUNNERS_BROKER_PORT: String(this.brokerPort),
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_SECURE_COOKIE: 'false',
			DB_TYPE: 'sqlite',
			// At "warn", n8n 2.8's execute --rawOutput prints no run at all.
			N8N_LOG_LEVEL: 'info',
			...this.extraEnv,
		};
	}

	get nodesFolder(): string {
		return join(this.userFolder, '.n8n', 'nodes');
	}

	/** As n8n's community-package installer does: npm install into the user folder's nodes/. */
	async installPackage(tarball: string): Promise<void> {
		mkdirSync(this.nodesFolder, { recursive: true });
		writeFileSync(join(this.nodesFolder, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true }));
		await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', tarball], {
			cwd: this.nodesFolder,
			maxBuffer: 16 * 1024 * 1024,
		});
	}

	/** CLI commands get a task broker port of their own, so they can run beside `n8n start`. */
	async cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
		return await run(this.runtime.node, [this.runtime.bin, ...args], {
			env: { ...this.env(), N8N_RUNNERS_BROKER_PORT: String(this.cliBrokerPort) },
			maxBuffer: 64 * 1024 * 1024,
			timeout: 180_000,
		});
	}

	private async importFile(kind: 'credentials' | 'workflow', content: unknown): Promise<void> {
		const file = join(this.userFolder, `${kind}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
		writeFileSync(file, JSON.stringify(content));
		await this.cli([`import:${kind}`, `--input=${file}`]);
	}

	importCredentials(credentials: unknown[]): Promise<void> {
		return this.importFile('credentials', credentials);
	}

	importWorkflow(workflow: unknown): Promise<void> {
		return this.importFile('workflow', workflow);
	}

	/**
	 * `n8n execute` prints log lines, then the run as JSON; the run's own status decides, not the
	 * exit code (n8n has exited 0 without running, and crashed after printing).
	 */
	async execute(workflowId: string): Promise<ExecutionResult> {
		let stdout: string;
		let stderr: string;
		try {
			({ stdout, stderr } = await this.cli(['execute', `--id=${workflowId}`, '--rawOutput']));
		} catch (error) {
			({ stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string });
		}
		// The run is printed pretty, so it starts with a line that is just "{".
		const start = stdout.search(/^\{$/m);
		if (start < 0) throw new Error(`n8n execute printed no run JSON.\nstdout:\n${stdout}\nstderr:\n${stderr}`);
		return JSON.parse(stdout.slice(start)) as ExecutionResult;
	}

	async start(): Promise<void> {
		this.output = '';
		this.server = spawn(this.runtime.node, [this.runtime.bin, 'start'], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
		const collect = (chunk: Buffer) => (this.output += chunk.toString());
		this.server.stdout!.on('data', collect);
		this.server.stderr!.on('data', collect);
		const deadline = Date.now() + 120_000;
		while (!this.output.includes('Editor is now accessible')) {
			if (this.server.exitCode !== null) throw new Error(`n8n exited with ${this.server.exitCode}:\n${this.output}`);
			if (Date.now() > deadline) throw new Error(`n8n did not start in 120 s:\n${this.output}`);
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
	}

	/** The `n8n start` process, whose memory the benchmarks read. */
	get serverPid(): number | undefined {
		return this.server?.pid;
	}

	get serverOutput(): string {
		return this.output;
	}

	async stop(): Promise<void> {
		const server = this.server;
		if (!server || server.exitCode !== null) return;
		const exited = new Promise((resolve) => server.once('exit', resolve));
		server.kill('SIGTERM');
		const timer = setTimeout(() => server.kill('SIGKILL'), 20_000);
		await exited;
		clearTimeout(timer);
	}
}
