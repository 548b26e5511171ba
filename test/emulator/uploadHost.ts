import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import { API_KEY_HEADER } from '../../credentials/CloudFactoryApi.credentials';
import type { Processed } from './faults';
import { s3Error, type Reply } from './replies';

/** What the emulator handed out on POST /v1/media, keyed by media_key. */
export interface IssuedMedia {
	mediaKey: string;
	configurationId: string;
	contentType: string;
	uploaded: boolean;
}

export interface UploadRecord {
	mediaKey: string;
	size: number;
	sha256: string;
	contentType: string | undefined;
	contentLengthHeader: string | undefined;
	transferEncoding: string | undefined;
	apiKeyHeaderReceived: boolean;
	receivedAt: number;
	/** Only when size <= keepBytesUpTo, so big uploads cost no memory. */
	bytes?: Buffer;
}

export interface UploadTicket {
	media_upload_url: string;
	media_key: string;
	expires_at: string;
}

/**
 * Presigned URLs in the S3 manner (D2): the query carries a signature over the method, the path,
 * the content type, the signing time and the lifetime, so a PUT with another content type or after
 * expiry is refused like S3 refuses it.
 */
export class UrlSigner {
	private key = randomBytes(32);

	/** Old URLs stop working, as if issued by another emulator. */
	rotate(): void {
		this.key = randomBytes(32);
	}

	issue(origin: string, fileName: string, contentType: string, ttlSeconds: number, now = Date.now()): UploadTicket {
		const path = `/media/${randomUUID()}/${encodeURIComponent(fileName)}`;
		const date = Math.floor(now / 1000);
		const query = new URLSearchParams({
			'X-Amz-Expires': String(ttlSeconds),
			'X-Amz-Date': String(date),
			'X-Amz-Signature': this.sign(stringToSign('PUT', path, contentType, String(date), String(ttlSeconds))),
		});
		return {
			media_upload_url: `${origin}${path}?${query}`,
			media_key: `${origin}${path}`,
			expires_at: new Date((date + ttlSeconds) * 1000).toISOString(),
		};
	}

	/** The refusal S3 would send, or undefined when the request may go on. */
	refusal(method: string, path: string, contentType: string, query: URLSearchParams, now = Date.now()): Reply | undefined {
		const ttl = query.get('X-Amz-Expires');
		const date = query.get('X-Amz-Date');
		const provided = query.get('X-Amz-Signature');
		if (ttl === null || date === null || provided === null) {
			return s3Error(
				403,
				'AccessDenied',
				'Query-string authentication requires the X-Amz-Signature, X-Amz-Date and X-Amz-Expires parameters',
			);
		}
		const toSign = stringToSign(method, path, contentType, date, ttl);
		const expected = Buffer.from(this.sign(toSign), 'hex');
		const given = /^[0-9a-f]{64}$/.test(provided) ? Buffer.from(provided, 'hex') : Buffer.alloc(0);
		if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
			return s3Error(
				403,
				'SignatureDoesNotMatch',
				'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
				{ SignatureProvided: provided, StringToSign: toSign },
			);
		}
		const expiresAtMs = (Number(date) + Number(ttl)) * 1000;
		if (now >= expiresAtMs) {
			return s3Error(403, 'AccessDenied', 'Request has expired', {
				'X-Amz-Expires': ttl,
				Expires: new Date(expiresAtMs).toISOString(),
				ServerTime: new Date(now).toISOString(),
			});
		}
		return undefined;
	}

	private sign(text: string): string {
		return createHmac('sha256', this.key).update(text).digest('hex');
	}
}

function stringToSign(method: string, path: string, contentType: string, date: string, ttl: string): string {
	return [method, path, contentType, date, ttl].join('\n');
}

export interface UploadTarget {
	signer: UrlSigner;
	media: Map<string, IssuedMedia>;
	uploads: Map<string, UploadRecord>;
	origin: string;
	keepBytesUpTo: number;
	refuseUploads: boolean;
}

/**
 * Hashes the body as it streams in, so a multi-gigabyte video costs no memory. `cutAfterBytes`
 * is the reset-mid-upload fault: the connection dies once that much has arrived.
 * A body shorter than its Content-Length never gets here: Node's parser answers 400 itself, and a
 * longer one is cut at Content-Length, so the count always matches a declared length.
 */
export async function receiveUpload(
	req: IncomingMessage,
	path: string,
	query: URLSearchParams,
	target: UploadTarget,
	cutAfterBytes?: number,
): Promise<Processed> {
	if (target.refuseUploads) return s3Error(403, 'AccessDenied', 'Access Denied');
	const contentType = req.headers['content-type'];
	const refusal = target.signer.refusal('PUT', path, contentType ?? '', query);
	if (refusal) return refusal;

	if (cutAfterBytes === 0) return 'reset';
	const sha256 = createHash('sha256');
	// S3 answers a single-part PUT with the MD5 of the object as its ETag.
	const md5 = createHash('md5');
	let size = 0;
	let kept: Buffer[] | undefined = [];
	for await (const chunk of req) {
		const bytes = chunk as Buffer;
		size += bytes.length;
		sha256.update(bytes);
		md5.update(bytes);
		if (kept && size <= target.keepBytesUpTo) kept.push(bytes);
		else kept = undefined;
		if (cutAfterBytes !== undefined && size >= cutAfterBytes) return 'reset';
	}

	const mediaKey = target.origin + path;
	target.uploads.set(mediaKey, {
		mediaKey,
		size,
		sha256: sha256.digest('hex'),
		contentType,
		contentLengthHeader: req.headers['content-length'],
		transferEncoding: req.headers['transfer-encoding'],
		apiKeyHeaderReceived: req.headers[API_KEY_HEADER] !== undefined,
		receivedAt: Date.now(),
		...(kept ? { bytes: Buffer.concat(kept) } : {}),
	});
	const issued = target.media.get(mediaKey);
	if (issued) issued.uploaded = true;
	return { status: 200, headers: { etag: `"${md5.digest('hex')}"` }, body: '' };
}
