import { API_LATENCY_MS, BULK_ITEMS, RATE_LIMIT_FLOOR_SECONDS, RATE_LIMIT_PER_SECOND, type BulkSample } from './bulkSubmit';
import { CALLBACK_CONCURRENCY, CALLBACKS, TRIGGER_RECEIVER, type CallbackSample } from './callbacks';
import type { BarGroup } from './chart';
import type { PackageCost } from './packageCost';
import { median, MiB } from './stats';
import type { UploadContender, UploadSample } from './upload';

export interface BenchResults {
	machine: string[];
	runs: number;
	uploads: UploadSample[];
	bulk: BulkSample[];
	callbacks: CallbackSample[];
	packageCost?: PackageCost;
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const verdict = (met: boolean) => (met ? 'met' : '**missed**');
const sizeLabel = (bytes: number) => (bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`);

interface UploadRow {
	sizeBytes: number;
	contender: UploadContender;
	mibPerSecond: number;
	memoryGrowthMiB?: number;
	runs: number[];
}

export function uploadRows(samples: UploadSample[]): UploadRow[] {
	const rows: UploadRow[] = [];
	for (const sizeBytes of [...new Set(samples.map((sample) => sample.sizeBytes))]) {
		for (const contender of [...new Set(samples.map((sample) => sample.contender))]) {
			const mine = samples.filter((sample) => sample.sizeBytes === sizeBytes && sample.contender === contender);
			if (mine.length === 0) continue;
			const throughputs = mine.map((sample) => sizeBytes / MiB / sample.seconds);
			const growths = mine.flatMap((sample) => (sample.memoryGrowthBytes === undefined ? [] : [sample.memoryGrowthBytes / MiB]));
			rows.push({ sizeBytes, contender, mibPerSecond: median(throughputs), memoryGrowthMiB: growths.length ? median(growths) : undefined, runs: throughputs });
		}
	}
	return rows;
}

function uploadSection(samples: UploadSample[]): string[] {
	const rows = uploadRows(samples);
	const find = (sizeBytes: number, contender: UploadContender) => rows.find((row) => row.sizeBytes === sizeBytes && row.contender === contender);
	const lines = [
		'## 1. Upload',
		'',
		"A Read File node puts the file into n8n's filesystem binary store (kept in /dev/shm, so that the disk writing back earlier runs' gigabytes is not part of any measurement); then each contender PUTs it to the emulator's upload host. Throughput counts the upload nodes' own execution time (for the HTTP Request contender, both of its nodes: the URL request and the PUT); curl's is its `time_total` for the PUT alone. Memory is the peak resident memory of the `n8n start` process while those nodes ran minus its resident memory when the run began, sampled from /proc every 5 ms. Each n8n contender runs in a freshly started n8n, after one uncounted warm-up upload.",
		'',
		'| File | Contender | Throughput (MiB/s) | × curl | n8n peak RSS growth (MiB) | Runs (MiB/s) |',
		'|---|---|---:|---:|---:|---|',
	];
	for (const row of rows) {
		const curl = find(row.sizeBytes, 'curl -T');
		lines.push(
			`| ${sizeLabel(row.sizeBytes)} | ${row.contender} | ${fixed(row.mibPerSecond)} | ${curl ? fixed(row.mibPerSecond / curl.mibPerSecond, 2) : '—'} | ${row.memoryGrowthMiB === undefined ? 'n/a (outside n8n)' : fixed(row.memoryGrowthMiB)} | ${row.runs.map((value) => fixed(value)).join(', ')} |`,
		);
	}
	const sizes = [...new Set(rows.map((row) => row.sizeBytes))].sort((a, b) => a - b);
	const media = sizes.map((size) => find(size, 'Upload Media')).filter((row): row is UploadRow => row !== undefined);
	if (media.length) {
		lines.push('', 'Targets for Upload Media:', '');
		for (const row of media) {
			const curl = find(row.sizeBytes, 'curl -T');
			if (curl) lines.push(`- ${sizeLabel(row.sizeBytes)}: ≥ 0.9 × curl: ${fixed(row.mibPerSecond / curl.mibPerSecond, 2)} × — ${verdict(row.mibPerSecond >= 0.9 * curl.mibPerSecond)}`);
			lines.push(`- ${sizeLabel(row.sizeBytes)}: peak memory growth ≤ 64 MiB: ${fixed(row.memoryGrowthMiB ?? NaN)} MiB — ${verdict((row.memoryGrowthMiB ?? Infinity) <= 64)}`);
		}
		if (media.length >= 2) {
			const [small, large] = [media[0], media[media.length - 1]];
			const difference = (large.memoryGrowthMiB ?? NaN) - (small.memoryGrowthMiB ?? NaN);
			const flat = Math.abs(difference) <= 0.1 * (small.memoryGrowthMiB ?? NaN) || Math.abs(difference) <= 2;
			lines.push(
				`- flat in file size (${sizeLabel(large.sizeBytes)} within 10 % of ${sizeLabel(small.sizeBytes)}, or within 2 MiB, the sampling noise): ${fixed(large.memoryGrowthMiB ?? NaN)} vs ${fixed(small.memoryGrowthMiB ?? NaN)} MiB — ${verdict(flat)}`,
			);
		}
	}
	return lines;
}

interface BulkRow extends BulkSample {
	runs: number[];
}

export function bulkRows(samples: BulkSample[]): BulkRow[] {
	return [...new Set(samples.map((sample) => sample.contender))].map((contender) => {
		const mine = samples.filter((sample) => sample.contender === contender);
		const worst = (pick: (sample: BulkSample) => number) => Math.max(...mine.map(pick));
		return {
			contender,
			seconds: median(mine.map((sample) => sample.seconds)),
			tasksCreated: Math.min(...mine.map((sample) => sample.tasksCreated)),
			failedItems: worst((sample) => sample.failedItems),
			duplicateTasks: worst((sample) => sample.duplicateTasks),
			rateLimited: median(mine.map((sample) => sample.rateLimited)),
			error: mine.find((sample) => sample.error)?.error,
			runs: mine.map((sample) => sample.seconds),
		};
	});
}

function bulkSection(samples: BulkSample[]): string[] {
	const lines = [
		'## 2. Bulk submit',
		'',
		`${BULK_ITEMS} items into POST /v1/tasks; the emulator adds ${API_LATENCY_MS} ms to every answer and allows ${RATE_LIMIT_PER_SECOND} requests per second, answering 429 with \`Retry-After\` beyond that. Floor: ${BULK_ITEMS} / ${RATE_LIMIT_PER_SECOND} = ${RATE_LIMIT_FLOOR_SECONDS} s. Time is the submitting node's execution time. Tasks, failures and duplicates are the worst of the runs.`,
		'',
		'| Contender | Wall time (s) | × floor | Tasks created | Failed items | Duplicate tasks | 429 answers | Runs (s) |',
		'|---|---:|---:|---:|---:|---:|---:|---|',
	];
	const rows = bulkRows(samples);
	for (const row of rows) {
		lines.push(
			`| ${row.contender} | ${fixed(row.seconds)} | ${fixed(row.seconds / RATE_LIMIT_FLOOR_SECONDS, 2)} | ${row.tasksCreated} | ${row.failedItems} | ${row.duplicateTasks} | ${fixed(row.rateLimited, 0)} | ${row.runs.map((value) => fixed(value)).join(', ')} |`,
		);
	}
	const errors = rows.filter((row) => row.error);
	if (errors.length) {
		lines.push('', 'Errors the nodes stopped with:', '');
		for (const row of errors) lines.push(`- ${row.contender}: "${row.error}"`);
	}
	const standard = rows.find((row) => row.contender.startsWith('Submit Task (default'));
	if (standard) {
		lines.push(
			'',
			`Targets for Submit Task at its default settings: ${BULK_ITEMS} successes — ${verdict(standard.failedItems === 0 && standard.tasksCreated === BULK_ITEMS)}; 0 duplicates — ${verdict(standard.duplicateTasks === 0)}; within 1.1 × the floor: ${fixed(standard.seconds / RATE_LIMIT_FLOOR_SECONDS, 2)} × — ${verdict(standard.seconds <= 1.1 * RATE_LIMIT_FLOOR_SECONDS)}.`,
		);
	}
	return lines;
}

function callbackSection(samples: CallbackSample[]): string[] {
	const lines = [
		'## 3. Callbacks',
		'',
		`${CALLBACKS} signed callbacks, ${CALLBACK_CONCURRENCY} at a time, into the Oversight Trigger's production URL of \`n8n start\`; the same load into n8n's own Webhook node (answering on receipt, no signature check) is the yardstick. Latency is from sending the request to reading the whole answer; medians of the runs.`,
		'',
		'| Receiver | p50 (ms) | p99 (ms) | max (ms) | × yardstick (p50, p99) | Answered 200 | Executions created | Runs: p99 (ms) |',
		'|---|---:|---:|---:|---:|---:|---:|---|',
	];
	const receivers = [...new Set(samples.map((sample) => sample.receiver))];
	const summary = receivers.map((receiver) => {
		const mine = samples.filter((sample) => sample.receiver === receiver);
		return {
			receiver,
			mine,
			p50: median(mine.map((sample) => sample.p50Ms)),
			p99: median(mine.map((sample) => sample.p99Ms)),
			max: median(mine.map((sample) => sample.maxMs)),
		};
	});
	const yardstick = summary.find((row) => row.receiver !== TRIGGER_RECEIVER);
	for (const row of summary) {
		const ratio = yardstick ? `${fixed(row.p50 / yardstick.p50, 2)}, ${fixed(row.p99 / yardstick.p99, 2)}` : '—';
		lines.push(
			`| ${row.receiver} | ${fixed(row.p50)} | ${fixed(row.p99)} | ${fixed(row.max)} | ${ratio} | ${Math.min(...row.mine.map((sample) => sample.answered200))} | ${Math.min(...row.mine.map((sample) => sample.executionsCreated))} | ${row.mine.map((sample) => fixed(sample.p99Ms)).join(', ')} |`,
		);
	}
	const trigger = summary.find((row) => row.receiver === TRIGGER_RECEIVER);
	if (trigger) {
		lines.push(
			'',
			`Targets for the trigger: every callback answered 200 — ${verdict(trigger.mine.every((sample) => sample.answered200 === CALLBACKS))}; p99 well under CloudFactory's 5 s timeout (${fixed(trigger.p99)} ms) — ${verdict(trigger.p99 < 1000)}; ${CALLBACKS} executions per run, none lost — ${verdict(trigger.mine.every((sample) => sample.executionsCreated === CALLBACKS))}.`,
		);
	}
	return lines;
}

function packageSection(cost: PackageCost): string[] {
	return [
		'## 4. Package cost',
		'',
		"Cold `require()` in a fresh Node process with `n8n-workflow` already loaded (as in n8n), median of the repeats; n8n's own HTTP Request node measured the same way as a yardstick.",
		'',
		'| File | Cold require (ms) |',
		'|---|---:|',
		...cost.perFile.map((file) => `| \`${file.file}\` | ${fixed(file.medianMs)} |`),
		`| **all nodes and the credential, one process** | **${fixed(cost.allTogetherMs)}** |`,
		`| n8n-nodes-base HTTP Request node (yardstick) | ${fixed(cost.httpRequestNodeMs)} |`,
		'',
		`Tarball (\`npm pack\`): ${fixed(cost.tarballBytes / 1024)} KiB packed, ${fixed(cost.unpackedBytes / 1024)} KiB unpacked, ${cost.files} files; tests, sources, source maps or emulator files in it: ${cost.unwantedFiles.length === 0 ? 'none' : cost.unwantedFiles.join(', ')}.`,
		'',
		`Targets: all nodes load in under 50 ms together (${fixed(cost.allTogetherMs)} ms) — ${verdict(cost.allTogetherMs < 50)}; nothing unwanted in the tarball — ${verdict(cost.unwantedFiles.length === 0)}.`,
	];
}

export function resultsMarkdown(results: BenchResults, charts: string[]): string {
	return [
		'# Benchmark results',
		'',
		`Written by \`npm run bench\`; every figure is the median of ${results.runs} runs made in the same session unless the table says otherwise. Charts: ${charts.map((chart) => `[${chart}](${chart})`).join(', ')}.`,
		'',
		'Machine:',
		'',
		...results.machine.map((line) => `- ${line}`),
		'',
		...(results.uploads.length ? [...uploadSection(results.uploads), ''] : []),
		...(results.bulk.length ? [...bulkSection(results.bulk), ''] : []),
		...(results.callbacks.length ? [...callbackSection(results.callbacks), ''] : []),
		...(results.packageCost ? [...packageSection(results.packageCost), ''] : []),
	].join('\n');
}

export function uploadChartGroups(samples: UploadSample[]): BarGroup[] {
	const rows = uploadRows(samples);
	return [...new Set(rows.map((row) => row.sizeBytes))].map((sizeBytes) => ({
		label: sizeLabel(sizeBytes),
		bars: rows.filter((row) => row.sizeBytes === sizeBytes).map((row) => ({ series: row.contender, value: row.mibPerSecond })),
	}));
}

export function bulkChartGroups(samples: BulkSample[]): BarGroup[] {
	return bulkRows(samples).map((row) => ({
		label: `${row.contender}: ${row.tasksCreated} of ${BULK_ITEMS} tasks`,
		bars: [{ series: 'wall time', value: row.seconds }],
	}));
}
