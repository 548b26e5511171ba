import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';

/**
 * Handlers return a Reply instead of writing it, so latency, delays and faults that rewrite an
 * answer (truncation, unexpected shape) apply in one place.
 */
export interface Reply {
	status: number;
	headers: Record<string, string>;
	body: string | Buffer;
}

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
	return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

export function message(status: number, text: string, headers: Record<string, string> = {}): Reply {
	return json(status, { message: text }, headers);
}

/** What a reverse proxy in front of the API answers when it, not the API, fails. */
export function htmlPage(status: number): Reply {
	const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
	return {
		status,
		headers: { 'content-type': 'text/html' },
		body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
	};
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (char) => XML_ESCAPES[char]);

/** The upload host speaks like S3: XML errors, with whatever extra elements S3 adds for that code. */
export function s3Error(
	status: number,
	code: string,
	text: string,
	details: Record<string, string> = {},
	headers: Record<string, string> = {},
): Reply {
	const elements = Object.entries({ Code: code, Message: text, ...details })
		.map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
		.join('');
	return {
		status,
		headers: { 'content-type': 'application/xml', ...headers },
		body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${elements}</Error>`,
	};
}

export function writeReply(res: ServerResponse, reply: Reply): void {
	if (res.destroyed || res.headersSent) return;
	res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) });
	res.end(reply.body);
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; reply: Reply };

/**
 * A body over the cap is still read to its end (and dropped) before the 413, so the client sees
 * the answer instead of a connection closed under its upload.
 */
export async function readJsonBody(req: IncomingMessage): Promise<JsonBody> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size <= MAX_JSON_BODY_BYTES) chunks.push(chunk as Buffer);
	}
	if (size > MAX_JSON_BODY_BYTES) {
		return { ok: false, reply: message(413, `Request body larger than ${MAX_JSON_BODY_BYTES} bytes`) };
	}
	try {
		return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
	} catch {
		return { ok: false, reply: message(400, 'Request body is not valid JSON') };
	}
}
