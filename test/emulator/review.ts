import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

import { SIGNATURE_HEADER, signatureHeader } from '../../nodes/shared/signature';

export type TaskState = 'pending' | 'completed';

export interface UpdatedInferences {
	inferences: unknown[];
}

export interface TaskRecord {
	id: string;
	/** The Submit Task body exactly as parsed, unknown fields included. */
	body: Record<string, unknown>;
	state: TaskState;
	createdAt: number;
	completedAt: number | null;
	/** Fixed at completion, so the callback and every later GET agree. */
	updatedInferences: UpdatedInferences | null;
}

/** The body of GET /v1/tasks/:id and of the callback (D5, D6). */
export interface TaskStatus {
	task_id: string;
	state: TaskState;
	updated_inferences: UpdatedInferences | null;
}

export interface CallbackDelivery {
	taskId: string;
	url: string;
	/** 1 for the first delivery, 2 for the first retry, and so on. */
	attempt: number;
	at: number;
	/** null until an answer came, and when none did. */
	status: number | null;
	error: string | null;
	delivered: boolean;
	/** Exactly the bytes sent, and the X-CF-Signature header that signed them. */
	body: string;
	header: string;
}

export interface CallbackAnswer {
	status: number;
	body: string;
}

export interface SignedCallbackOptions {
	secret?: string;
	timestamp?: number;
	/** Sent verbatim instead of a computed signature; null sends no signature header at all. */
	header?: string | null;
}

export interface ReviewSettings {
	webhookSecret: string;
	callbackTimeoutMs: number;
	callbackRetryDelaysMs: readonly number[];
}

/** Node fires longer timers at once (with a warning); a longer review delay means "never". */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_ANSWER_BYTES = 64 * 1024;

export function taskStatus(task: TaskRecord): TaskStatus {
	return { task_id: task.id, state: task.state, updated_inferences: task.updatedInferences };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

/** A human confirmed every class: confidence 1, and a mark that the inference went through review. */
function reviewed(inference: unknown): unknown {
	if (!isObject(inference)) return inference;
	const result: Record<string, unknown> = { ...inference, reviewed: true };
	if (Array.isArray(inference.classes)) {
		result.classes = inference.classes.map((item: unknown) => (isObject(item) ? { ...item, confidence_score: 1 } : item));
	}
	return result;
}

function reviewOutcome(submitted: unknown): UpdatedInferences {
	if (Array.isArray(submitted) && submitted.length > 0) return { inferences: submitted.map(reviewed) };
	return {
		inferences: [
			{
				external_id: randomUUID(),
				classes: [{ class: 'reviewed', confidence_score: 1 }],
				bbox: [[1, 1, 10, 10]],
				mask: [],
				polygon: [],
			},
		],
	};
}

/** One signal is shared by every pending review and delivery, so it has many listeners by design. */
function newGeneration(): AbortController {
	const controller = new AbortController();
	setMaxListeners(0, controller.signal);
	return controller;
}

/**
 * Stands in for the human reviewers and for CloudFactory's webhook sender (D6): completes tasks
 * and delivers signed callbacks with CloudFactory's retry schedule, scaled down.
 */
export class Reviewer {
	/** Aborted by reset and close: pending reviews, retries and requests in flight all stop. */
	private generation = newGeneration();

	constructor(
		private readonly settings: ReviewSettings,
		private readonly deliveries: CallbackDelivery[],
	) {}

	schedule(task: TaskRecord, delayMs: number): void {
		if (delayMs > MAX_TIMER_MS) return;
		sleep(delayMs, undefined, { signal: this.generation.signal }).then(
			() => this.complete(task),
			() => undefined,
		);
	}

	/** Resolves once the first delivery attempt (if any) has its outcome; retries go on behind. */
	async complete(task: TaskRecord): Promise<void> {
		if (task.state === 'completed') return;
		task.state = 'completed';
		task.completedAt = Date.now();
		task.updatedInferences = reviewOutcome(task.body.inferences);
		const url = task.body.callback_url;
		if (typeof url !== 'string') return;
		const body = JSON.stringify(taskStatus(task));
		const { signal } = this.generation;
		if (!(await this.attempt(task.id, url, body, 1, signal))) void this.retry(task.id, url, body, signal);
	}

	sendSignedCallback(url: string, body: object | string, options: SignedCallbackOptions = {}): Promise<CallbackAnswer> {
		const raw = typeof body === 'string' ? body : JSON.stringify(body);
		const header =
			options.header !== undefined
				? options.header
				: signatureHeader(options.secret ?? this.settings.webhookSecret, raw, options.timestamp);
		const headers: Record<string, string> = { 'content-type': 'application/json' };
		if (header !== null) headers[SIGNATURE_HEADER] = header;
		return post(url, raw, headers, this.settings.callbackTimeoutMs, this.generation.signal);
	}

	stop(): void {
		this.generation.abort();
		this.generation = newGeneration();
	}

	private async retry(taskId: string, url: string, body: string, signal: AbortSignal): Promise<void> {
		for (const [index, delayMs] of this.settings.callbackRetryDelaysMs.entries()) {
			try {
				await sleep(delayMs, undefined, { signal });
			} catch {
				return;
			}
			if (await this.attempt(taskId, url, body, index + 2, signal)) return;
		}
	}

	/** Each attempt is signed afresh: a retry hours later must still pass the receiver's time window. */
	private async attempt(taskId: string, url: string, body: string, attempt: number, signal: AbortSignal): Promise<boolean> {
		const header = signatureHeader(this.settings.webhookSecret, body);
		const delivery: CallbackDelivery = {
			taskId,
			url,
			attempt,
			at: Date.now(),
			status: null,
			error: null,
			delivered: false,
			body,
			header,
		};
		this.deliveries.push(delivery);
		try {
			const answer = await post(
				url,
				body,
				{ 'content-type': 'application/json', [SIGNATURE_HEADER]: header },
				this.settings.callbackTimeoutMs,
				signal,
			);
			delivery.status = answer.status;
			delivery.delivered = answer.status === 200;
		} catch (error) {
			delivery.error = error instanceof Error ? error.message : String(error);
		}
		return delivery.delivered;
	}
}

/** One POST on a fresh connection; the whole answer must arrive within timeoutMs. */
function post(
	url: string,
	body: string,
	headers: Record<string, string>,
	timeoutMs: number,
	signal: AbortSignal,
): Promise<CallbackAnswer> {
	return new Promise((resolve, reject) => {
		const target = new URL(url);
		if (target.protocol !== 'http:' && target.protocol !== 'https:') {
			reject(new Error(`not an http(s) URL: ${url}`));
			return;
		}
		const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
		const req = send(target, {
			method: 'POST',
			headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
			agent: false,
			signal,
		});
		const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
		const fail = (error: Error): void => {
			clearTimeout(timer);
			reject(error);
		};
		req.on('error', fail);
		req.on('response', (res) => {
			const chunks: Buffer[] = [];
			let size = 0;
			res.on('data', (chunk: Buffer) => {
				if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
				size += chunk.length;
			});
			res.on('error', fail);
			res.on('end', () => {
				clearTimeout(timer);
				resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
			});
		});
		req.end(body);
	});
}
