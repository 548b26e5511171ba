/**
 * Decision D7 (shared/oversight-api.md): what an error answer means to a user.
 * Error bodies are JSON of unknown shape; the message is the first of message, error, detail,
 * errors[0]. The upload host is S3-like and answers XML whose full text can echo the presigned
 * signature, so only its Code and Message are ever kept.
 */

export type Operation = 'requestUpload' | 'uploadBytes' | 'submitTask' | 'getTask';

const OPERATION_LABEL: Record<Operation, string> = {
	requestUpload: 'Requesting an upload URL',
	uploadBytes: 'Uploading the file',
	submitTask: 'Creating the task',
	getTask: 'Reading the task',
};

export interface OversightErrorDetails {
	operation: Operation;
	attempts: number;
	status?: number;
	/** The server's own words, already stripped of anything that could carry a secret. */
	apiMessage?: string;
	/** The parsed JSON error body of an API answer (never of the upload host). */
	body?: unknown;
	networkErrorCode?: string;
	/** Set when the server answered 2xx with something that cannot be used. */
	unusableAnswer?: string;
	/** Only for submitTask: the request left this machine and its fate is unknown. */
	taskMayExist?: boolean;
}

export class OversightRequestError extends Error {
	readonly details: OversightErrorDetails;

	readonly hint: string;

	constructor(details: OversightErrorDetails) {
		super(describeFailure(details));
		this.name = 'OversightRequestError';
		this.details = details;
		this.hint = hintFor(details);
	}
}

function describeFailure(d: OversightErrorDetails): string {
	const what = OPERATION_LABEL[d.operation];
	const tries = d.attempts > 1 ? ` (after ${d.attempts} attempts)` : '';
	if (d.unusableAnswer !== undefined) {
		return `${what} failed: CloudFactory answered HTTP ${d.status} but ${d.unusableAnswer}`;
	}
	if (d.status !== undefined) {
		const said = d.apiMessage ? `: ${d.apiMessage}` : '';
		return `${what} failed with HTTP ${d.status}${said}${tries}`;
	}
	return `${what} failed: ${networkProblem(d.networkErrorCode)}${tries}`;
}

function networkProblem(code: string | undefined): string {
	switch (code) {
		case 'UND_ERR_HEADERS_TIMEOUT':
		case 'UND_ERR_BODY_TIMEOUT':
			return 'no answer within the timeout';
		case 'UND_ERR_CONNECT_TIMEOUT':
			return 'the connection could not be opened in time';
		default:
			// n8n rewrites messages that contain a network error code, so the code stays in the hint.
			return 'the connection failed';
	}
}

function hintFor(d: OversightErrorDetails): string {
	if (d.taskMayExist) {
		return 'The request reached CloudFactory but no answer came back, so the task may or may not exist. It was not sent again, to avoid paying for a duplicate review. Check with CloudFactory before you run this item again.';
	}
	if (d.unusableAnswer !== undefined) {
		return 'Check that the Base URL in the credential points at the Oversight API. If it does, the API may have changed: please report it.';
	}
	switch (d.status) {
		case undefined:
			return `${d.networkErrorCode ? `Network error ${d.networkErrorCode}. ` : ''}Check the Base URL in the credential, and this machine's network and proxy settings (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).`;
		case 400:
		case 422:
			return 'CloudFactory rejected the request. Check the fields the message names (configuration ID, media key, media type, JSON fields).';
		case 401:
			return 'CloudFactory refused the API key. Check the API key in the CloudFactory API credential.';
		case 403:
			return d.operation === 'uploadBytes'
				? 'The upload URL expired or was refused. Run the node again: it asks for a fresh URL every time.'
				: 'The API key is valid but not allowed to do this. Ask CloudFactory support which configurations it may use.';
		case 404:
			return d.operation === 'getTask'
				? 'No task with this ID is known to CloudFactory for this API key. Check the Task ID: it is the task_id that Submit Task outputs.'
				: 'CloudFactory does not know this address. Check the Base URL in the credential and the configuration ID.';
		case 413:
			return 'The file is larger than CloudFactory accepts.';
		case 429:
			return 'CloudFactory kept answering "too many requests". Lower the node\'s Concurrency option, or run fewer items at a time.';
		default:
			return d.status >= 500
				? 'CloudFactory had a server problem that lasted through every retry. Try again later.'
				: 'See the message for what CloudFactory objected to.';
	}
}

const MAX_MESSAGE_LENGTH = 300;

function clip(text: string): string {
	const flat = text.replace(/\s+/g, ' ').trim();
	return flat.length > MAX_MESSAGE_LENGTH ? `${flat.slice(0, MAX_MESSAGE_LENGTH)}…` : flat;
}

function asMessage(value: unknown): string | undefined {
	if (typeof value === 'string' && value.trim() !== '') return value;
	if (value && typeof value === 'object') {
		const nested = (value as Record<string, unknown>).message;
		if (typeof nested === 'string' && nested.trim() !== '') return nested;
		return JSON.stringify(value);
	}
	return undefined;
}

/** The first of message, error, detail, errors[0] in a JSON error body. */
export function messageFromJsonBody(body: unknown): string | undefined {
	if (!body || typeof body !== 'object') return undefined;
	const fields = body as Record<string, unknown>;
	const errors = Array.isArray(fields.errors) ? fields.errors[0] : undefined;
	for (const candidate of [fields.message, fields.error, fields.detail, errors]) {
		const message = asMessage(candidate);
		if (message !== undefined) return clip(message);
	}
	return undefined;
}

/** Code and Message of an S3-style XML error; nothing else of it is kept. */
export function messageFromXmlBody(text: string): string | undefined {
	const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
	const message = /<Message>([^<]{1,300})<\/Message>/.exec(text)?.[1];
	if (!code && !message) return undefined;
	return clip([code, message].filter(Boolean).join(': '));
}

/** A non-JSON answer (an HTML error page from a proxy, say): its title, else its text without tags. */
export function messageFromTextBody(text: string): string | undefined {
	const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
	const plain = (title ?? text.replace(/<[^>]*>/g, ' ')).trim();
	return plain === '' ? undefined : clip(plain);
}
