import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IDataObject } from 'n8n-workflow';
import type { Dispatcher } from 'undici';

import { API_KEY_HEADER } from '../../../credentials/CloudFactoryApi.credentials';
import { isHttpUrl } from '../urls';
import { loadUndici, sharedDispatcher } from './dispatcher';
import {
	messageFromJsonBody,
	messageFromTextBody,
	messageFromXmlBody,
	OversightRequestError,
	type Operation,
	type OversightErrorDetails,
} from './errors';
import {
	DEFAULT_RETRY_OPTIONS,
	failedBeforeSending,
	isRetryable,
	parseRetryAfter,
	retryDelayMs,
	type Outcome,
	type RequestSafety,
	type RetryOptions,
} from './retryPolicy';

export interface OversightConnection {
	apiKey: string;
	baseUrl: string;
}

export interface ClientOptions {
	/** How long to wait for an answer (and for each pause inside one), in milliseconds. */
	responseTimeoutMs?: number;
	retry?: Partial<RetryOptions>;
	dispatcher?: Dispatcher;
	signal?: AbortSignal;
	/** Receives one line per retry; lines never hold a secret. */
	log?: (line: string) => void;
}

/** Parsed JSON as n8n items carry it. */
export type JsonObject = IDataObject;

/** Decision D1: the body of the upload URL request. */
export interface UploadUrlRequest {
	configuration_id: string;
	file_name: string;
	content_type: string;
}

export interface UploadTicket extends JsonObject {
	media_upload_url: string;
	media_key: string;
}

/** The bytes to PUT; `open` is called once per attempt, since a stream cannot be replayed. */
export interface MediaBody {
	size: number;
	contentType: string;
	open(): Promise<Readable | Buffer>;
}

export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;

const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MIN_SECRET_LENGTH = 8;

interface Call {
	operation: Operation;
	safety: RequestSafety;
	method: 'GET' | 'POST' | 'PUT';
	url: URL;
	headers: Record<string, string>;
	body?: () => Promise<string | Buffer | Readable>;
	/** Query values of a presigned URL: its signature must never surface in an error or a log line. */
	urlSecrets?: string[];
}

interface Answer {
	status: number;
	json?: unknown;
}

/**
 * The one piece of code that speaks HTTP to CloudFactory (API and upload host alike).
 */
export class OversightClient {
	private readonly apiBase: string;

	private readonly apiKey: string;

	private readonly retry: RetryOptions;

	private readonly responseTimeoutMs: number;

	private readonly dispatcher: Dispatcher | undefined;

	constructor(
		connection: OversightConnection,
		private readonly options: ClientOptions = {},
	) {
		this.apiBase = normaliseBaseUrl(connection.baseUrl);
		this.apiKey = connection.apiKey;
		this.retry = { ...DEFAULT_RETRY_OPTIONS, ...options.retry };
		this.responseTimeoutMs = options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
		this.dispatcher = options.dispatcher;
	}

	/** Decision D1: POST /v1/media answers with where to PUT the bytes and the media's key. */
	async requestUploadUrl(body: UploadUrlRequest): Promise<UploadTicket> {
		const answer = await this.callApi('requestUpload', 'repeatable', 'POST', '/v1/media', body);
		const ticket = answer.json as JsonObject;
		for (const field of ['media_upload_url', 'media_key']) {
			if (typeof ticket[field] !== 'string' || ticket[field] === '') {
				throw this.unusableAnswer('requestUpload', answer.status, `the answer has no ${field}`);
			}
		}
		if (!isHttpUrl(ticket.media_upload_url as string)) {
			throw this.unusableAnswer('requestUpload', answer.status, 'media_upload_url is not an http(s) URL');
		}
		return ticket as UploadTicket;
	}

	/**
	 * Decision D2: PUT the raw bytes with an explicit Content-Length, never chunked, and never
	 * with the API key: the presigned URL carries its own authorisation.
	 */
	async uploadMedia(uploadUrl: string, media: MediaBody): Promise<void> {
		const url = new URL(uploadUrl);
		await this.send({
			operation: 'uploadBytes',
			safety: 'repeatable',
			method: 'PUT',
			url,
			headers: { 'content-type': media.contentType, 'content-length': String(media.size) },
			body: () => media.open(),
			urlSecrets: [...url.searchParams.values()],
		});
	}

	async submitTask(body: JsonObject): Promise<JsonObject> {
		const answer = await this.callApi('submitTask', 'createsTask', 'POST', '/v1/tasks', body);
		const task = answer.json as JsonObject;
		if (typeof task.task_id !== 'string' || task.task_id === '') {
			throw this.unusableAnswer('submitTask', answer.status, 'the answer has no task_id', true);
		}
		return task;
	}

	/** D5: `state` is passed through whatever it says, but an answer without one is no task. */
	async getTask(taskId: string): Promise<JsonObject> {
		const answer = await this.callApi('getTask', 'repeatable', 'GET', `/v1/tasks/${encodeURIComponent(taskId)}`);
		const task = answer.json as JsonObject;
		if (typeof task.state !== 'string') throw this.unusableAnswer('getTask', answer.status, 'the answer has no state');
		return task;
	}

	private async callApi(
		operation: Operation,
		safety: RequestSafety,
		method: 'GET' | 'POST',
		path: string,
		body?: object,
	): Promise<Answer> {
		const headers: Record<string, string> = { accept: 'application/json', [API_KEY_HEADER]: this.apiKey };
		if (body !== undefined) headers['content-type'] = 'application/json';
		const payload = body === undefined ? undefined : JSON.stringify(body);
		const answer = await this.send({
			operation,
			safety,
			method,
			url: new URL(this.apiBase + path),
			headers,
			body: payload === undefined ? undefined : async () => payload,
		});
		if (answer.json === null || typeof answer.json !== 'object' || Array.isArray(answer.json)) {
			throw this.unusableAnswer(operation, answer.status, 'the answer is not a JSON object', safety === 'createsTask');
		}
		return answer;
	}

	private async send(call: Call): Promise<Answer> {
		for (let attempt = 1; ; attempt++) {
			let outcome: Outcome;
			let retryAfterMs: number | undefined;
			let failure: Omit<OversightErrorDetails, 'operation' | 'attempts'>;
			let body: string | Buffer | Readable | undefined;
			try {
				body = await call.body?.();
				const { request } = await loadUndici();
				const response = await request(call.url, {
					method: call.method,
					headers: call.headers,
					body,
					dispatcher: this.dispatcher ?? (await sharedDispatcher()),
					headersTimeout: this.responseTimeoutMs,
					bodyTimeout: this.responseTimeoutMs,
					signal: this.options.signal,
				});
				if (response.statusCode >= 200 && response.statusCode < 300) {
					return { status: response.statusCode, json: await readSuccessBody(call, response) };
				}
				outcome = { status: response.statusCode };
				retryAfterMs = parseRetryAfter(headerValue(response.headers['retry-after']));
				failure = { status: response.statusCode, ...(await this.readErrorBody(call, response)) };
			} catch (error) {
				if (error instanceof OversightRequestError) throw error;
				if (this.options.signal?.aborted) throw error;
				const code = errorCode(error);
				outcome = { networkErrorCode: code };
				failure = { networkErrorCode: code };
			} finally {
				destroyStream(body);
			}

			if (!isRetryable(call.safety, outcome) || attempt > this.retry.maxRetries) {
				throw new OversightRequestError({
					operation: call.operation,
					attempts: attempt,
					...failure,
					taskMayExist: call.safety === 'createsTask' && mayHaveCreated(outcome),
				});
			}
			const delay = retryDelayMs(attempt, this.retry, retryAfterMs);
			this.options.log?.(
				`CloudFactory: ${call.method} ${describeTarget(call)} got ${'status' in outcome ? `HTTP ${outcome.status}` : (outcome.networkErrorCode ?? 'a network error')}; retry ${attempt} of ${this.retry.maxRetries} in ${delay} ms`,
			);
			await sleep(delay, undefined, { signal: this.options.signal });
		}
	}

	private async readErrorBody(
		call: Call,
		response: Dispatcher.ResponseData,
	): Promise<Pick<OversightErrorDetails, 'apiMessage' | 'body'>> {
		const text = await readLimited(response.body, MAX_ERROR_BODY_BYTES);
		if (call.operation === 'uploadBytes') {
			return { apiMessage: this.redact(messageFromXmlBody(text), call) };
		}
		try {
			const json: unknown = JSON.parse(text);
			return {
				apiMessage: this.redact(messageFromJsonBody(json), call),
				body: JSON.parse(this.redact(JSON.stringify(json), call) as string),
			};
		} catch {
			return { apiMessage: this.redact(messageFromTextBody(text), call) };
		}
	}

	private redact(text: string | undefined, call: Call): string | undefined {
		if (text === undefined) return undefined;
		let clean = text;
		for (const secret of [this.apiKey, ...(call.urlSecrets ?? [])]) {
			// Shorter strings are no credible secret, and replacing them would garble the text.
			if (secret.length >= MIN_SECRET_LENGTH) clean = clean.split(secret).join('[redacted]');
		}
		return clean;
	}

	private unusableAnswer(
		operation: Operation,
		status: number,
		problem: string,
		taskMayExist = false,
	): OversightRequestError {
		return new OversightRequestError({
			operation,
			attempts: 1,
			status,
			unusableAnswer: problem,
			taskMayExist,
		});
	}
}

function mayHaveCreated(outcome: Outcome): boolean {
	if ('status' in outcome) return outcome.status >= 500 && outcome.status !== 503;
	return !failedBeforeSending(outcome.networkErrorCode);
}

async function readSuccessBody(call: Call, response: Dispatcher.ResponseData): Promise<unknown> {
	if (call.method === 'PUT') {
		await response.body.dump();
		return undefined;
	}
	const text = await response.body.text();
	try {
		return JSON.parse(text);
	} catch {
		throw new OversightRequestError({
			operation: call.operation,
			attempts: 1,
			status: response.statusCode,
			unusableAnswer: 'the answer is not valid JSON',
			taskMayExist: call.safety === 'createsTask',
		});
	}
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	try {
		for await (const chunk of body) {
			chunks.push(chunk as Buffer);
			size += (chunk as Buffer).length;
			if (size >= limit) break;
		}
	} catch {
		// A broken error body still leaves the status code to report.
	} finally {
		body.destroy();
	}
	return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function destroyStream(body: unknown): void {
	if (body && typeof (body as Readable).destroy === 'function' && !Buffer.isBuffer(body)) {
		(body as Readable).destroy();
	}
}

function headerValue(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value[0] : value;
}

function errorCode(error: unknown): string | undefined {
	let current: unknown = error;
	while (current && typeof current === 'object') {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string') return code;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

/** Upload URLs are logged by origin only: their path and query belong to the signature. */
function describeTarget(call: Call): string {
	return call.operation === 'uploadBytes' ? `${call.url.origin} (upload URL)` : call.url.pathname;
}

export function normaliseBaseUrl(baseUrl: string): string {
	const trimmed = baseUrl.trim().replace(/\/+$/, '');
	if (!isHttpUrl(trimmed)) {
		throw new Error(`The Base URL in the CloudFactory API credential is not an http(s) URL: "${trimmed}"`);
	}
	return trimmed;
}
