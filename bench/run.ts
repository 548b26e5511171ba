import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { startEmulator } from '../test/emulator/emulator';
import { ensureN8n, REPO_ROOT } from '../test/e2e/n8nRuntime';
import { BenchN8n } from './benchN8n';
import { bulkSubmit, RATE_LIMIT_FLOOR_SECONDS, type BulkSample } from './bulkSubmit';
import { callbackStorm, TRIGGER_RECEIVER, type CallbackSample } from './callbacks';
import { barChartSvg } from './chart';
import { packageCost } from './packageCost';
import { bulkChartGroups, resultsMarkdown, uploadChartGroups, type BenchResults } from './report';
import { MiB } from './stats';
import { benchFile, CONFIGURATION_ID, uploadThroughN8n, uploadWithCurl, type UploadSample } from './upload';
import { httpRequestSubmitWorkflow, httpRequestUploadWorkflow, submitTaskWorkflow, triggerWorkflow, uploadMediaWorkflow, webhookBaselineWorkflow } from './workflows';

const BENCHMARKS = ['package', 'upload', 'bulk', 'callbacks'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

function options() {
	const { values } = parseArgs({
		options: {
			runs: { type: 'string', default: '3' },
			only: { type: 'string', default: BENCHMARKS.join(',') },
			sizes: { type: 'string', default: '100,1024' },
			runtime: { type: 'string', default: 'n8n-2.8' },
		},
	});
	const only = values.only.split(',') as Benchmark[];
	for (const name of only) if (!BENCHMARKS.includes(name)) throw new Error(`--only takes ${BENCHMARKS.join(', ')}; not "${name}"`);
	return { runs: Number(values.runs), only, sizesMiB: values.sizes.split(',').map(Number), runtime: values.runtime };
}

function logUpload(runNumber: number, sample: UploadSample): UploadSample {
	const memory = sample.memoryGrowthBytes === undefined ? '' : `, n8n RSS +${(sample.memoryGrowthBytes / MiB).toFixed(1)} MiB`;
	log(`upload run ${runNumber}, ${sample.sizeBytes / MiB} MiB, ${sample.contender}: ${(sample.sizeBytes / MiB / sample.seconds).toFixed(1)} MiB/s${memory}`);
	return sample;
}

async function main(): Promise<void> {
	const settings = options();
	const workDir = join(REPO_ROOT, '.cache', 'bench');
	mkdirSync(workDir, { recursive: true });
	const runtime = await ensureN8n(settings.runtime, log);
	const results: BenchResults = {
		machine: [
			`${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM`,
			`Node ${process.version} (benchmark driver and emulator); n8n runtime \`${settings.runtime}\` (${runtime.dir.split('/').pop()})`,
			`Run on ${new Date().toISOString().slice(0, 10)}`,
		],
		runs: settings.runs,
		uploads: [],
		bulk: [],
		callbacks: [],
	};

	if (settings.only.includes('package')) {
		log('Package cost');
		results.packageCost = await packageCost({ repeats: Math.max(5, settings.runs), n8nBaseNodesDir: join(runtime.dir, 'node_modules', 'n8n-nodes-base') });
	}

	const needsN8n = settings.only.some((name) => name !== 'package');
	if (needsN8n) {
		const emulator = await startEmulator({ reviewDelayMs: 3_600_000, keepBytesUpTo: 0 });
		const credentialFacts = { baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, configurationId: CONFIGURATION_ID };
		const workflows = {
			uploadMedia: uploadMediaWorkflow(CONFIGURATION_ID),
			uploadHttp: httpRequestUploadWorkflow(credentialFacts),
			submitDefault: submitTaskWorkflow({ id: 'benchSubmitDefault', name: 'bench: Submit Task (default)', configurationId: CONFIGURATION_ID }),
			submitSerial: submitTaskWorkflow({ id: 'benchSubmitSerial1', name: 'bench: Submit Task (concurrency 1)', configurationId: CONFIGURATION_ID, concurrency: 1 }),
			httpDefault: httpRequestSubmitWorkflow({ id: 'benchHttpReqDefault', name: 'bench: HTTP Request (default)', ...credentialFacts }),
			httpBatched: httpRequestSubmitWorkflow({
				id: 'benchHttpReqBatched',
				name: 'bench: HTTP Request (batched)',
				...credentialFacts,
				batching: { batchSize: 20, batchInterval: 1000 },
			}),
			trigger: triggerWorkflow('9f4c1b2e-6a7d-4c3e-8b1f-0d2e4a6c8e01'),
			webhookBaseline: webhookBaselineWorkflow(),
		};
		const filesDir = join(workDir, 'files');
		mkdirSync(filesDir, { recursive: true });
		// In RAM, so that the disk writing back earlier runs' gigabytes is not part of a measured upload.
		const binaryDataDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/cf-bench-binary-data-') : join(workDir, 'binary-data');
		mkdirSync(binaryDataDir, { recursive: true });
		const n8n = await BenchN8n.start({
			emulator,
			workflows: Object.values(workflows),
			env: {
				N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
				N8N_BINARY_DATA_STORAGE_PATH: binaryDataDir,
				N8N_RESTRICT_FILE_ACCESS_TO: filesDir,
			},
			log,
		});
		try {
			if (settings.only.includes('upload')) {
				const files = [];
				for (const sizeMiB of settings.sizesMiB) {
					log(`Preparing a ${sizeMiB} MiB file`);
					files.push({ sizeBytes: sizeMiB * MiB, file: await benchFile(filesDir, sizeMiB * MiB) });
				}
				for (let runNumber = 1; runNumber <= settings.runs; runNumber++) {
					for (const { sizeBytes, file } of files) results.uploads.push(logUpload(runNumber, await uploadWithCurl({ emulator, file, sizeBytes })));
				}
				const contenders = [
					{ contender: 'Upload Media' as const, workflow: workflows.uploadMedia },
					{ contender: 'HTTP Request nodes' as const, workflow: workflows.uploadHttp },
				];
				for (const { contender, workflow } of contenders) {
					await n8n.restart();
					// Run 0 warms up (n8n loads and compiles the node's code, opens connections) and is not counted.
					for (let runNumber = 0; runNumber <= settings.runs; runNumber++) {
						for (const { sizeBytes, file } of runNumber === 0 ? files.slice(0, 1) : files) {
							const sample = await uploadThroughN8n({ n8n, emulator, workflow, contender, file, sizeBytes, binaryDataDir });
							if (runNumber > 0) results.uploads.push(logUpload(runNumber, sample));
						}
					}
				}
			}
			if (settings.only.includes('bulk')) {
				await n8n.restart();
				const contenders = [
					{ contender: 'Submit Task (default, concurrency 4)', workflow: workflows.submitDefault },
					{ contender: 'Submit Task (concurrency 1)', workflow: workflows.submitSerial },
					{ contender: 'HTTP Request (default)', workflow: workflows.httpDefault },
					{ contender: 'HTTP Request (batch 20 per 1000 ms)', workflow: workflows.httpBatched },
				];
				for (let runNumber = 1; runNumber <= settings.runs; runNumber++) {
					for (const { contender, workflow } of contenders) {
						const sample: BulkSample = await bulkSubmit({ n8n, emulator, workflow, contender, runNumber });
						log(`bulk run ${runNumber}, ${contender}: ${sample.seconds.toFixed(1)} s (floor ${RATE_LIMIT_FLOOR_SECONDS} s), ${sample.tasksCreated} tasks, ${sample.failedItems} failed, ${sample.duplicateTasks} duplicates, ${sample.rateLimited} × 429`);
						results.bulk.push(sample);
					}
				}
			}
			if (settings.only.includes('callbacks')) {
				await n8n.restart();
				const receivers = [
					{ receiver: TRIGGER_RECEIVER, workflow: workflows.trigger },
					{ receiver: 'n8n Webhook node (yardstick)', workflow: workflows.webhookBaseline },
				];
				for (let runNumber = 1; runNumber <= settings.runs; runNumber++) {
					for (const { receiver, workflow } of receivers) {
						const sample: CallbackSample = await callbackStorm({ n8n, emulator, receiver, workflow, runNumber });
						log(`callbacks run ${runNumber}, ${receiver}: p50 ${sample.p50Ms.toFixed(1)} ms, p99 ${sample.p99Ms.toFixed(1)} ms, ${sample.answered200} × 200, ${sample.executionsCreated} executions`);
						results.callbacks.push(sample);
					}
				}
			}
		} finally {
			await n8n.stop();
			await emulator.close();
			rmSync(binaryDataDir, { recursive: true, force: true });
		}
	}

	const complete = BENCHMARKS.every((name) => settings.only.includes(name));
	// A partial run must not overwrite the committed full results.
	const outDir = complete ? join(REPO_ROOT, 'bench') : workDir;
	const charts: string[] = [];
	if (results.uploads.length) {
		writeFileSync(join(outDir, 'upload.svg'), barChartSvg({ title: 'Upload throughput (median, higher is better)', unit: 'MiB/s', groups: uploadChartGroups(results.uploads) }));
		charts.push('upload.svg');
	}
	if (results.bulk.length) {
		writeFileSync(
			join(outDir, 'bulk-submit.svg'),
			barChartSvg({
				title: 'Bulk submit of 1,000 tasks under 20 requests/s (median, lower is better)',
				unit: 's',
				groups: bulkChartGroups(results.bulk),
				marker: { value: RATE_LIMIT_FLOOR_SECONDS, label: `floor ${RATE_LIMIT_FLOOR_SECONDS} s` },
			}),
		);
		charts.push('bulk-submit.svg');
	}
	const markdown = resultsMarkdown(results, charts);
	writeFileSync(join(outDir, 'RESULTS.md'), markdown);
	console.log(markdown);
	log(`Wrote ${join(outDir, 'RESULTS.md')}`);
}

main().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
