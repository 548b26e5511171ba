import { json, htmlPage, message, s3Error, type Reply } from './replies';

export type ApiRoute = 'POST /v1/media' | 'POST /v1/tasks' | 'GET /v1/tasks/:id' | 'GET /v1/tasks';
export type FaultRoute = ApiRoute | 'PUT upload';

const ROUTES: readonly FaultRoute[] = ['POST /v1/media', 'POST /v1/tasks', 'GET /v1/tasks/:id', 'GET /v1/tasks', 'PUT upload'];

/**
 * `status` and `html` stand for a proxy in front of the service: the request is not processed.
 * `truncated-json` and `unexpected-shape` stand for a broken answer to a request that WAS processed
 * (a task is created), as does `reset-after-processing`.
 */
export type FaultAction =
	| { kind: 'status'; status: number; retryAfter?: string; body?: string; contentType?: string }
	| { kind: 'reset-before-processing' }
	| { kind: 'reset-after-processing' }
	| { kind: 'delay'; ms: number }
	| { kind: 'truncated-json' }
	| { kind: 'html'; status: number }
	| { kind: 'unexpected-shape' };

export interface MidUploadReset {
	kind: 'reset-mid-upload';
	afterBytes: number;
}

/** `times` counts down as the fault is used; the fault leaves the queue at zero. */
export type Fault =
	| { route: ApiRoute; times?: number; action: FaultAction }
	| { route: 'PUT upload'; times?: number; action: FaultAction | MidUploadReset };

export type AppliedFault = FaultAction | MidUploadReset;

export interface RateLimit {
	requestsPerSecond: number;
	retryAfter: 'seconds' | 'http-date' | 'none';
}

export interface Knobs {
	/** Added before every API answer (not the upload host's). */
	latencyMs: number;
	rateLimit: RateLimit | null;
	uploadUrlTtlSeconds: number;
	/** Read when a task is created; later changes do not move timers already running. */
	reviewDelayMs: number;
	refuseUploads: boolean;
	faults: Fault[];
}

const DEFAULT_UPLOAD_URL_TTL_SECONDS = 900;

export function initialKnobs(reviewDelayMs: number): Knobs {
	return {
		latencyMs: 0,
		rateLimit: null,
		uploadUrlTtlSeconds: DEFAULT_UPLOAD_URL_TTL_SECONDS,
		reviewDelayMs,
		refuseUploads: false,
		faults: [],
	};
}

/** First match first; the queue is the live `knobs.faults` array, so tests may push to it. */
export function takeFault(faults: Fault[], route: FaultRoute): AppliedFault | undefined {
	const index = faults.findIndex((fault) => fault.route === route);
	if (index === -1) return undefined;
	const fault = faults[index];
	fault.times = (fault.times ?? 1) - 1;
	if (fault.times <= 0) faults.splice(index, 1);
	return fault.action;
}

/** 'reset' means: destroy the socket instead of answering. */
export type Processed = Reply | 'reset';

export type Outcome = { reply: Reply; delayMs: number } | 'reset';

function injected(action: Extract<FaultAction, { kind: 'status' }>, host: 'api' | 'upload'): Reply {
	const headers: Record<string, string> = action.retryAfter === undefined ? {} : { 'retry-after': action.retryAfter };
	const reply =
		host === 'api'
			? message(action.status, `Injected ${action.status}`, headers)
			: s3Error(action.status, 'InjectedFault', `Injected ${action.status}`, {}, headers);
	if (action.body !== undefined) reply.body = action.body;
	if (action.contentType !== undefined) reply.headers['content-type'] = action.contentType;
	return reply;
}

/** Processes the request (or, for faults that stand for a proxy, does not) and bends the answer. */
export async function applyFault(
	fault: AppliedFault | undefined,
	host: 'api' | 'upload',
	run: () => Promise<Processed>,
): Promise<Outcome> {
	switch (fault?.kind) {
		case 'reset-before-processing':
			return 'reset';
		case 'status':
			return { reply: injected(fault, host), delayMs: 0 };
		case 'html':
			return { reply: htmlPage(fault.status), delayMs: 0 };
	}
	const reply = await run();
	if (reply === 'reset') return 'reset';
	switch (fault?.kind) {
		case 'reset-after-processing':
			return 'reset';
		case 'truncated-json': {
			const whole = Buffer.from(reply.body);
			return { reply: { ...reply, status: 200, body: whole.subarray(0, Math.floor(whole.length / 2)) }, delayMs: 0 };
		}
		case 'unexpected-shape':
			return { reply: json(200, { unexpected: true }), delayMs: 0 };
		case 'delay':
			return { reply, delayMs: fault.ms };
		default:
			return { reply, delayMs: 0 };
	}
}

/** Fixed one-second windows: simple to reason about in tests, and what many gateways do. */
export class RateLimiter {
	private window = -1;

	private count = 0;

	/** A 429 when this request is over the limit, else undefined. */
	check(limit: RateLimit | null, now = Date.now()): Reply | undefined {
		if (!limit) return undefined;
		const window = Math.floor(now / 1000);
		if (window !== this.window) {
			this.window = window;
			this.count = 0;
		}
		this.count++;
		if (this.count <= limit.requestsPerSecond) return undefined;
		const windowEnd = (window + 1) * 1000;
		const headers: Record<string, string> = {};
		if (limit.retryAfter === 'seconds') headers['retry-after'] = String(Math.ceil((windowEnd - now) / 1000));
		if (limit.retryAfter === 'http-date') headers['retry-after'] = new Date(windowEnd).toUTCString();
		return message(429, 'Too many requests', headers);
	}

	reset(): void {
		this.window = -1;
		this.count = 0;
	}
}

type Check<T> = { ok: true; value: T } | { ok: false; problem: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
const isDuration = (value: unknown): value is number =>
	typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isStatus = (value: unknown): value is number =>
	Number.isInteger(value) && (value as number) >= 200 && (value as number) <= 599;

function parseAction(value: unknown, route: FaultRoute): Check<AppliedFault> {
	if (!isObject(value)) return { ok: false, problem: 'action must be an object' };
	const bad = (problem: string): Check<AppliedFault> => ({ ok: false, problem: `action ${value.kind}: ${problem}` });
	const good = (action: AppliedFault): Check<AppliedFault> => ({ ok: true, value: action });
	switch (value.kind) {
		case 'status': {
			const { status, retryAfter, body, contentType } = value;
			if (!isStatus(status)) return bad('status must be an HTTP status code');
			if ([retryAfter, body, contentType].some((field) => field !== undefined && typeof field !== 'string')) {
				return bad('retryAfter, body and contentType must be strings');
			}
			return good({
				kind: 'status',
				status,
				retryAfter: retryAfter as string | undefined,
				body: body as string | undefined,
				contentType: contentType as string | undefined,
			});
		}
		case 'html':
			return isStatus(value.status) ? good({ kind: 'html', status: value.status }) : bad('status must be an HTTP status code');
		case 'delay':
			return isDuration(value.ms) ? good({ kind: 'delay', ms: value.ms }) : bad('ms must be a number >= 0');
		case 'reset-mid-upload':
			if (route !== 'PUT upload') return bad('only applies to "PUT upload"');
			return isCount(value.afterBytes)
				? good({ kind: 'reset-mid-upload', afterBytes: value.afterBytes })
				: bad('afterBytes must be an integer >= 0');
		case 'reset-before-processing':
		case 'reset-after-processing':
		case 'truncated-json':
		case 'unexpected-shape':
			return good({ kind: value.kind });
		default:
			return { ok: false, problem: `unknown action kind ${JSON.stringify(value.kind)}` };
	}
}

function parseFault(value: unknown): Check<Fault> {
	if (!isObject(value)) return { ok: false, problem: 'a fault must be an object' };
	const route = value.route as FaultRoute;
	if (!ROUTES.includes(route)) return { ok: false, problem: `route must be one of ${ROUTES.join(', ')}` };
	if (value.times !== undefined && !(isCount(value.times) && value.times > 0)) {
		return { ok: false, problem: 'times must be an integer >= 1' };
	}
	const action = parseAction(value.action, route);
	if (!action.ok) return action;
	return { ok: true, value: { route, times: value.times as number | undefined, action: action.value } as Fault };
}

function parseRateLimit(value: unknown): Check<RateLimit | null> {
	if (value === null) return { ok: true, value: null };
	if (!isObject(value) || !(isCount(value.requestsPerSecond) && value.requestsPerSecond > 0)) {
		return { ok: false, problem: 'rateLimit must be null or {requestsPerSecond: integer >= 1, retryAfter?}' };
	}
	const retryAfter = value.retryAfter ?? 'seconds';
	if (retryAfter !== 'seconds' && retryAfter !== 'http-date' && retryAfter !== 'none') {
		return { ok: false, problem: 'rateLimit.retryAfter must be seconds, http-date or none' };
	}
	return { ok: true, value: { requestsPerSecond: value.requestsPerSecond, retryAfter } };
}

/**
 * The HTTP form of knob changes: a shallow JSON merge (arrays and objects replace), all or nothing.
 * Returns a problem description, or undefined once applied.
 */
export function mergeKnobs(knobs: Knobs, patch: unknown): string | undefined {
	if (!isObject(patch)) return 'knobs must be a JSON object';
	const next: Partial<Knobs> = {};
	for (const [name, value] of Object.entries(patch)) {
		switch (name) {
			case 'latencyMs':
			case 'reviewDelayMs':
				if (!isDuration(value)) return `${name} must be a number >= 0`;
				next[name] = value;
				break;
			case 'uploadUrlTtlSeconds':
				if (!isCount(value)) return 'uploadUrlTtlSeconds must be an integer >= 0';
				next.uploadUrlTtlSeconds = value;
				break;
			case 'refuseUploads':
				if (typeof value !== 'boolean') return 'refuseUploads must be a boolean';
				next.refuseUploads = value;
				break;
			case 'rateLimit': {
				const rateLimit = parseRateLimit(value);
				if (!rateLimit.ok) return rateLimit.problem;
				next.rateLimit = rateLimit.value;
				break;
			}
			case 'faults': {
				if (!Array.isArray(value)) return 'faults must be an array';
				const faults: Fault[] = [];
				for (const [index, item] of value.entries()) {
					const fault = parseFault(item);
					if (!fault.ok) return `faults[${index}]: ${fault.problem}`;
					faults.push(fault.value);
				}
				next.faults = faults;
				break;
			}
			default:
				return `unknown knob ${JSON.stringify(name)}`;
		}
	}
	Object.assign(knobs, next);
	return undefined;
}
