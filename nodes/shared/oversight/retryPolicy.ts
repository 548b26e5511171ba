/**
 * Decision D8 (shared/oversight-api.md): which failed requests are sent again, and when.
 *
 * Reads and uploads are safe to repeat. Creating a task is not: CloudFactory documents no
 * idempotency key, so POST /v1/tasks is repeated only when the server surely did not create one.
 */

export type RequestSafety = 'repeatable' | 'createsTask';

export interface RetryOptions {
	/** Further attempts after the first one. */
	maxRetries: number;
	baseDelayMs: number;
	maxDelayMs: number;
	/** A Retry-After longer than this is cut to it, so one answer cannot park a workflow for hours. */
	maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
	maxRetries: 4,
	baseDelayMs: 500,
	maxDelayMs: 20_000,
	maxRetryAfterMs: 60_000,
};

/** Errors raised while connecting, so before any byte of the request left this machine. */
const NOT_SENT_CODES = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'UND_ERR_CONNECT_TIMEOUT',
]);

export type Outcome = { status: number } | { networkErrorCode: string | undefined };

export function failedBeforeSending(code: string | undefined): boolean {
	return code !== undefined && NOT_SENT_CODES.has(code);
}

export function isRetryable(safety: RequestSafety, outcome: Outcome): boolean {
	if ('status' in outcome) {
		const { status } = outcome;
		if (safety === 'createsTask') return status === 429 || status === 503;
		return status === 429 || status >= 500;
	}
	if (safety === 'createsTask') return failedBeforeSending(outcome.networkErrorCode);
	return true;
}

/**
 * Seconds ("120") or an HTTP date; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
	if (value === undefined) return undefined;
	const trimmed = value.trim();
	if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
	const date = Date.parse(trimmed);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - now);
}

/**
 * Capped exponential backoff with jitter (half fixed, half random). A Retry-After from the server
 * replaces the backoff, cut to maxRetryAfterMs.
 */
export function retryDelayMs(
	retryNumber: number,
	options: RetryOptions,
	retryAfterMs: number | undefined,
	random = Math.random,
): number {
	const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retryNumber - 1));
	const backoff = ceiling / 2 + (random() * ceiling) / 2;
	if (retryAfterMs === undefined) return Math.round(backoff);
	return Math.round(Math.min(retryAfterMs, options.maxRetryAfterMs) + random() * options.baseDelayMs * 0.2);
}
