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

	/** The highest RSS seen in [from, to] minus the last RSS seen before `from`. */
	growthDuring(from: number, to: number): number {
		const before = this.samples.filter((sample) => sample.at <= from).pop() ?? this.samples[0];
		const during = this.samples.filter((sample) => sample.at >= from && sample.at <= to);
		const peak = Math.max(before.rssBytes, ...during.map((sample) => sample.rssBytes));
		return peak - before.rssBytes;
	}

	peak(): number {
		return Math.max(...this.samples.map((sample) => sample.rssBytes));
	}

	private sample(): void {
		const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
		if (match) this.samples.push({ at: Date.now(), rssBytes: Number(match[1]) * 1024 });
	}
}
