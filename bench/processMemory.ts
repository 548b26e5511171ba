import { readFileSync } from 'node:fs';

interface Sample {
	at: number;
	rssBytes: number;
}

/** Resident memory of one process, read from /proc every few milliseconds while it runs. */
export class RssSampler {
	private samples: Sample[] = [];

	private timer?: NodeJS.Timeout;

	constructor(
		private readonly pid: number,
		private readonly intervalMs = 5,
	) {}

	start(): void {
		this.samples = [];
		this.sample();
		this.timer = setInterval(() => this.sample(), this.intervalMs);
	}

	stop(): void {
		clearInterval(this.timer);
		this.sample();
	}

	/** The RSS when sampling started. */
	first(): number {
		return this.samples[0].rssBytes;
	}

	/** The highest RSS seen in [from, to], or the last one before when no sample fell inside. */
	peakDuring(from: number, to: number): number {
		const before = this.samples.filter((sample) => sample.at <= from).pop() ?? this.samples[0];
		const during = this.samples.filter((sample) => sample.at >= from && sample.at <= to);
		return Math.max(before.rssBytes, ...during.map((sample) => sample.rssBytes));
	}

	private sample(): void {
		this.samples.push({ at: Date.now(), rssBytes: residentBytes(this.pid) });
	}
}

export function residentBytes(pid: number): number {
	const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	if (!match) throw new Error(`No VmRSS for process ${pid}`);
	return Number(match[1]) * 1024;
}
