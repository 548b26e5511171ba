import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { API_KEY_HEADER } from '../../credentials/CloudFactoryApi.credentials';
import { getTask, listTasks, requestUpload, submitTask, type ApiContext, type Store } from './api';
import {
	applyFault,
	initialKnobs,
	mergeKnobs,
	RateLimiter,
	takeFault,
	type AppliedFault,
	type ApiRoute,
	type Knobs,
	type Outcome,
} from './faults';
import { json, message, readJsonBody, s3Error, writeReply, type Reply } from './replies';
import {
	Reviewer,
	taskStatus,
	type CallbackAnswer,
	type CallbackDelivery,
	type SignedCallbackOptions,
	type TaskRecord,
	type TaskStatus,
} from './review';
import { receiveUpload, UrlSigner, type UploadRecord } from './uploadHost';

export type { ApiRoute, AppliedFault, Fault, FaultAction, FaultRoute, Knobs, MidUploadReset, RateLimit } from './faults';
export type {
	CallbackAnswer,
	CallbackDelivery,
	SignedCallbackOptions,
	TaskRecord,
	TaskState,
	TaskStatus,
	UpdatedInferences,
} from './review';
export type { UploadRecord } from './uploadHost';

export interface EmulatorOptions {
	/** Interface to listen on; default 127.0.0.1. */
	host?: string;
	/** API port; default 0 (any free port). */
	port?: number;
	/** Upload host port; default 0. A separate server, so uploads go to another origin, as with S3. */
	uploadPort?: number;
	/** Accepted x-api-key values; default ['emulator-api-key']. */
	apiKeys?: string[];
	/** When given, only these configuration_id values exist. */
	configurationIds?: string[];
	/** Signs callbacks; default 'emulator-webhook-secret'. */
	webhookSecret?: string;
	/** Initial value of knobs.reviewDelayMs; default 2000. */
	reviewDelayMs?: number;
	/** A callback delivery fails without a 200 within this; default 5000 (CloudFactory's 5 s). */
	callbackTimeoutMs?: number;
	/** Waits before each retry; default [1000, 2000, 4000, 8000], CloudFactory's 1h/2h/4h/8h scaled down. */
	callbackRetryDelaysMs?: number[];
	/** Uploads up to this size keep their bytes for inspection; default 1 MiB. */
	keepBytesUpTo?: number;
}

export interface RecordedRequest {
	at: number;
	method: string;
	host: 'api' | 'upload';
	/** Without the query. */
	path: string;
	/** Exactly as received, query included. */
	rawPath: string;
	/** Lower-case names; x-api-key is left out (see apiKeyPresent) so no key ever lands in a log. */
	headers: Record<string, string | string[]>;
	apiKeyPresent: boolean;
	/** null while unanswered, and for good when the fault reset the connection. */
	status: number | null;
	fault: AppliedFault | null;
}

export type UploadSummary = Omit<UploadRecord, 'bytes'> & { bytesKept: boolean };

/** What GET /_emulator/state answers; upload bytes are left out. */
export interface EmulatorSnapshot {
	baseUrl: string;
	uploadOrigin: string;
	knobs: Knobs;
	requests: RecordedRequest[];
	uploads: Record<string, UploadSummary>;
	tasks: Record<string, TaskRecord>;
	callbackDeliveries: CallbackDelivery[];
	duplicateTaskCount: number;
	taskCount: number;
}

export interface Emulator {
	/** Give this to the credential's Base URL. */
	readonly baseUrl: string;
	readonly uploadOrigin: string;
	/** GET it for EmulatorSnapshot JSON; /_emulator/* needs no API key. */
	readonly inspectionUrl: string;
	/** The first accepted key. */
	readonly apiKey: string;
	readonly webhookSecret: string;
	/** Live: change fields or push faults at any time. */
	readonly knobs: Knobs;
	readonly requests: RecordedRequest[];
	/** By media_key. */
	readonly uploads: Map<string, UploadRecord>;
	readonly tasks: Map<string, TaskRecord>;
	readonly callbackDeliveries: CallbackDelivery[];
	duplicateTaskCount(): number;
	taskCount(): number;
	/** Completes now instead of after the review delay; resolves after the first callback attempt. */
	completeTask(id: string): Promise<TaskStatus>;
	/** POSTs as CloudFactory would (signed with the webhook secret unless told otherwise), for attack tests. */
	sendSignedCallback(url: string, body: object | string, options?: SignedCallbackOptions): Promise<CallbackAnswer>;
	snapshot(): EmulatorSnapshot;
	/** Forgets everything, restores the initial knobs, stops pending reviews and callbacks, voids issued URLs. */
	reset(): void;
	close(): Promise<void>;
}

const DEFAULTS = {
	host: '127.0.0.1',
	apiKeys: ['emulator-api-key'],
	webhookSecret: 'emulator-webhook-secret',
	reviewDelayMs: 2000,
	callbackTimeoutMs: 5000,
	callbackRetryDelaysMs: [1000, 2000, 4000, 8000],
	keepBytesUpTo: 1024 * 1024,
};

type Host = RecordedRequest['host'];

type RouteMatch = { route: ApiRoute; rawTaskId?: string } | Reply;

function matchApiRoute(method: string, path: string): RouteMatch {
	const allow = (allowed: string): Reply => message(405, 'Method not allowed', { allow: allowed });
	if (path === '/v1/media') return method === 'POST' ? { route: 'POST /v1/media' } : allow('POST');
	if (path === '/v1/tasks') {
		if (method === 'POST') return { route: 'POST /v1/tasks' };
		return method === 'GET' ? { route: 'GET /v1/tasks' } : allow('GET, POST');
	}
	const task = /^\/v1\/tasks\/([^/]+)$/.exec(path);
	if (task) return method === 'GET' ? { route: 'GET /v1/tasks/:id', rawTaskId: task[1] } : allow('GET');
	return message(404, 'Not found');
}

class OversightEmulator implements Emulator {
	readonly inspectionUrl: string;

	readonly apiKey: string;

	readonly knobs: Knobs;

	readonly requests: RecordedRequest[] = [];

	readonly callbackDeliveries: CallbackDelivery[] = [];

	private readonly store: Store = {
		media: new Map(),
		uploads: new Map(),
		tasks: new Map(),
		taskKeys: new Set(),
		duplicates: 0,
	};

	private readonly signer = new UrlSigner();

	private readonly rateLimiter = new RateLimiter();

	private readonly reviewer: Reviewer;

	private readonly context: ApiContext;

	/** Aborted by close, so answers held back by latency or a delay fault are dropped. */
	private readonly closing = new AbortController();

	constructor(
		readonly baseUrl: string,
		readonly uploadOrigin: string,
		private readonly settings: EmulatorOptions & typeof DEFAULTS,
		private readonly servers: Server[],
		private readonly sockets: Set<Socket>,
	) {
		this.inspectionUrl = `${baseUrl}/_emulator/state`;
		this.apiKey = settings.apiKeys[0];
		this.knobs = initialKnobs(settings.reviewDelayMs);
		this.reviewer = new Reviewer(settings, this.callbackDeliveries);
		this.context = {
			store: this.store,
			signer: this.signer,
			reviewer: this.reviewer,
			knobs: this.knobs,
			uploadOrigin,
			configurationIds: settings.configurationIds,
		};
	}

	get webhookSecret(): string {
		return this.settings.webhookSecret;
	}

	get uploads(): Map<string, UploadRecord> {
		return this.store.uploads;
	}

	get tasks(): Map<string, TaskRecord> {
		return this.store.tasks;
	}

	duplicateTaskCount(): number {
		return this.store.duplicates;
	}

	taskCount(): number {
		return this.store.tasks.size;
	}

	async completeTask(id: string): Promise<TaskStatus> {
		const task = this.store.tasks.get(id);
		if (!task) throw new Error(`The emulator has no task ${id}`);
		await this.reviewer.complete(task);
		return taskStatus(task);
	}

	sendSignedCallback(url: string, body: object | string, options?: SignedCallbackOptions): Promise<CallbackAnswer> {
		return this.reviewer.sendSignedCallback(url, body, options);
	}

	snapshot(): EmulatorSnapshot {
		const uploads: Record<string, UploadSummary> = {};
		for (const [key, { bytes, ...summary }] of this.store.uploads) {
			uploads[key] = { ...summary, bytesKept: bytes !== undefined };
		}
		return structuredClone({
			baseUrl: this.baseUrl,
			uploadOrigin: this.uploadOrigin,
			knobs: this.knobs,
			requests: this.requests,
			uploads,
			tasks: Object.fromEntries(this.store.tasks),
			callbackDeliveries: this.callbackDeliveries,
			duplicateTaskCount: this.store.duplicates,
			taskCount: this.store.tasks.size,
		});
	}

	reset(): void {
		this.reviewer.stop();
		this.signer.rotate();
		this.rateLimiter.reset();
		Object.assign(this.knobs, initialKnobs(this.settings.reviewDelayMs));
		this.requests.length = 0;
		this.callbackDeliveries.length = 0;
		this.store.media.clear();
		this.store.uploads.clear();
		this.store.tasks.clear();
		this.store.taskKeys.clear();
		this.store.duplicates = 0;
	}

	async close(): Promise<void> {
		this.reviewer.stop();
		this.closing.abort();
		const closed = Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
		for (const socket of this.sockets) socket.destroy();
		await closed;
	}

	async serve(host: Host, req: IncomingMessage, res: ServerResponse): Promise<void> {
		const rawPath = req.url ?? '/';
		const path = rawPath.split('?')[0];
		if (host === 'api' && path.startsWith('/_emulator/')) {
			writeReply(res, await this.control(req, path).catch(failure));
			return;
		}
		const entry = this.record(host, req, rawPath, path);
		const outcome = await (host === 'api' ? this.api(req, path, entry) : this.upload(req, rawPath, path, entry)).catch(
			(error: unknown): Outcome => ({ reply: failure(error), delayMs: 0 }),
		);
		if (outcome === 'reset') {
			req.socket.destroy();
			return;
		}
		const delayMs = outcome.delayMs + (host === 'api' ? this.knobs.latencyMs : 0);
		if (delayMs > 0) await sleep(delayMs, undefined, { signal: this.closing.signal }).catch(() => undefined);
		if (res.destroyed) return;
		writeReply(res, outcome.reply);
		entry.status = outcome.reply.status;
	}

	private record(host: Host, req: IncomingMessage, rawPath: string, path: string): RecordedRequest {
		const headers: Record<string, string | string[]> = {};
		for (const [name, value] of Object.entries(req.headers)) {
			if (name !== API_KEY_HEADER && value !== undefined) headers[name] = value;
		}
		const entry: RecordedRequest = {
			at: Date.now(),
			method: req.method ?? '',
			host,
			path,
			rawPath,
			headers,
			apiKeyPresent: req.headers[API_KEY_HEADER] !== undefined,
			status: null,
			fault: null,
		};
		this.requests.push(entry);
		return entry;
	}

	/** Route, then key, then rate limit: a refused key or a 429 never uses up a queued fault. */
	private async api(req: IncomingMessage, path: string, entry: RecordedRequest): Promise<Outcome> {
		const match = matchApiRoute(req.method ?? '', path);
		if ('status' in match) return { reply: match, delayMs: 0 };
		const key = req.headers[API_KEY_HEADER];
		if (typeof key !== 'string' || !this.settings.apiKeys.includes(key)) {
			return { reply: message(401, 'Invalid API key'), delayMs: 0 };
		}
		const limited = this.rateLimiter.check(this.knobs.rateLimit);
		if (limited) return { reply: limited, delayMs: 0 };

		const fault = takeFault(this.knobs.faults, match.route);
		entry.fault = fault ?? null;
		return applyFault(fault, 'api', async () => {
			switch (match.route) {
				case 'POST /v1/media':
				case 'POST /v1/tasks': {
					const body = await readJsonBody(req);
					if (!body.ok) return body.reply;
					const handle = match.route === 'POST /v1/media' ? requestUpload : submitTask;
					return handle(this.context, body.value);
				}
				case 'GET /v1/tasks/:id':
					return getTask(this.context, match.rawTaskId as string);
				case 'GET /v1/tasks':
					return listTasks(this.context);
			}
		});
	}

	private async upload(req: IncomingMessage, rawPath: string, path: string, entry: RecordedRequest): Promise<Outcome> {
		if (req.method !== 'PUT') {
			return {
				reply: s3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {}, { allow: 'PUT' }),
				delayMs: 0,
			};
		}
		const fault = takeFault(this.knobs.faults, 'PUT upload');
		entry.fault = fault ?? null;
		const query = new URLSearchParams(rawPath.slice(path.length + 1));
		const target = {
			signer: this.signer,
			media: this.store.media,
			uploads: this.store.uploads,
			origin: this.uploadOrigin,
			keepBytesUpTo: this.settings.keepBytesUpTo,
			refuseUploads: this.knobs.refuseUploads,
		};
		const cutAfterBytes = fault?.kind === 'reset-mid-upload' ? fault.afterBytes : undefined;
		return applyFault(fault, 'upload', () => receiveUpload(req, path, query, target, cutAfterBytes));
	}

	/** The inspection and steering routes; they need no API key and are not recorded. */
	private async control(req: IncomingMessage, path: string): Promise<Reply> {
		const method = req.method ?? '';
		const complete = /^\/_emulator\/tasks\/([^/]+)\/complete$/.exec(path);
		const route = complete ? 'complete' : path;
		const allowed: Record<string, string> = {
			'/_emulator/state': 'GET',
			'/_emulator/knobs': 'POST',
			'/_emulator/reset': 'POST',
			complete: 'POST',
		};
		if (allowed[route] === undefined) return message(404, 'Not found');
		if (allowed[route] !== method) return message(405, 'Method not allowed', { allow: allowed[route] });
		switch (route) {
			case '/_emulator/state':
				return json(200, this.snapshot());
			case '/_emulator/knobs': {
				const body = await readJsonBody(req);
				if (!body.ok) return body.reply;
				const problem = mergeKnobs(this.knobs, body.value);
				return problem === undefined ? json(200, this.knobs) : message(400, problem);
			}
			case '/_emulator/reset':
				this.reset();
				return json(200, { reset: true });
			default: {
				let id: string;
				try {
					id = decodeURIComponent((complete as RegExpExecArray)[1]);
				} catch {
					return message(404, 'Task not found');
				}
				if (!this.store.tasks.has(id)) return message(404, 'Task not found');
				return json(200, await this.completeTask(id));
			}
		}
	}
}

/** A bug in the emulator shows up as a 500 naming it, not as a crashed test run. */
function failure(error: unknown): Reply {
	return message(500, `Emulator failure: ${error instanceof Error ? error.message : String(error)}`);
}

/** Where clients should connect: a wildcard address is not one. */
function origin(host: string, server: Server): string {
	const { port } = server.address() as AddressInfo;
	const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
	return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
	const definedOptions = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
	const settings = { ...DEFAULTS, ...definedOptions } as EmulatorOptions & typeof DEFAULTS;
	if (settings.apiKeys.length === 0) throw new Error('The emulator needs at least one API key');

	const sockets = new Set<Socket>();
	const servers = [createServer(), createServer()];
	for (const server of servers) {
		server.on('connection', (socket: Socket) => {
			sockets.add(socket);
			socket.on('close', () => sockets.delete(socket));
		});
	}
	const [api, upload] = servers;
	let listening = false;
	try {
		await listen(api, options.port ?? 0, settings.host);
		await listen(upload, options.uploadPort ?? 0, settings.host);
		listening = true;
	} finally {
		// Otherwise the server that did start would hold its port until the process ends.
		if (!listening) for (const server of servers) server.close();
	}

	const emulator = new OversightEmulator(
		origin(settings.host, api),
		origin(settings.host, upload),
		settings,
		servers,
		sockets,
	);
	for (const [server, host] of [
		[api, 'api'],
		[upload, 'upload'],
	] as const) {
		// Only writing an answer can still throw here (a header value from a knob that HTTP refuses);
		// dropping that connection beats crashing the test run.
		server.on('request', (req: IncomingMessage, res: ServerResponse) => {
			emulator.serve(host, req, res).catch(() => res.destroy());
		});
	}
	return emulator;
}
