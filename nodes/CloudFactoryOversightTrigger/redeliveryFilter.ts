import type { IDataObject } from 'n8n-workflow';

const MAX_REMEMBERED = 10_000;

/**
 * Remembers which task and state were delivered, in the workflow's static data, so that
 * CloudFactory's retries of a callback start no second execution.
 */
export class RedeliveryFilter {
	private readonly seen: Record<string, number>;

	constructor(
		staticData: IDataObject,
		private readonly windowMs: number,
	) {
		staticData.deliveredCallbacks ??= {};
		this.seen = staticData.deliveredCallbacks as Record<string, number>;
	}

	/** True the first time a task and state arrive within the window; records them. */
	isFirstDelivery(payload: IDataObject, now = Date.now()): boolean {
		this.forgetOlderThan(now - this.windowMs);
		const key = `${String(payload.task_id)}\u0000${String(payload.state)}`;
		if (this.seen[key] !== undefined) return false;
		this.seen[key] = now;
		return true;
	}

	private forgetOlderThan(cutoff: number): void {
		const keys = Object.keys(this.seen);
		for (const key of keys) {
			if (this.seen[key] < cutoff) delete this.seen[key];
		}
		// Oldest first, as inserted: bound the memory a flood of distinct tasks can take.
		for (const key of Object.keys(this.seen).slice(0, Math.max(0, keys.length - MAX_REMEMBERED))) {
			delete this.seen[key];
		}
	}
}
