import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Decision D6 (shared/oversight-api.md): the one place that signs and verifies CloudFactory
 * callbacks. Header `X-CF-Signature: t=<unix seconds>;v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 */

export const SIGNATURE_HEADER = 'x-cf-signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

const MAX_HEADER_LENGTH = 1024;
/** More than one v1 appears while CloudFactory rotates the secret; more than a few is an attack. */
const MAX_SIGNATURES = 5;

export function computeSignature(secret: string, timestamp: number, rawBody: Buffer | string): string {
	return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

export function signatureHeader(
	secret: string,
	rawBody: Buffer | string,
	timestamp = Math.floor(Date.now() / 1000),
): string {
	return `t=${timestamp};v1=${computeSignature(secret, timestamp, rawBody)}`;
}

export type VerificationFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';

export type Verification = { ok: true; timestamp: number } | { ok: false; reason: VerificationFailure };

interface ParsedHeader {
	timestamp: number;
	signatures: Buffer[];
}

/** Spaces around parts and any order are tolerated; anything else is refused. */
export function parseSignatureHeader(header: string): ParsedHeader | undefined {
	if (header.length > MAX_HEADER_LENGTH) return undefined;
	let timestamp: number | undefined;
	const signatures: Buffer[] = [];
	for (const part of header.split(';')) {
		const match = /^\s*(t|v1)=([^\s;]+)\s*$/.exec(part);
		if (!match) return undefined;
		const [, key, value] = match;
		if (key === 't') {
			if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
			timestamp = Number(value);
		} else {
			if (!/^[0-9a-fA-F]{64}$/.test(value) || signatures.length === MAX_SIGNATURES) return undefined;
			signatures.push(Buffer.from(value, 'hex'));
		}
	}
	if (timestamp === undefined || signatures.length === 0) return undefined;
	return { timestamp, signatures };
}

export function verifySignature(params: {
	header: string | string[] | undefined;
	rawBody: Buffer;
	secret: string;
	toleranceSeconds?: number;
	nowSeconds?: number;
}): Verification {
	const { header, rawBody, secret } = params;
	if (header === undefined || header === '') return { ok: false, reason: 'missing' };
	if (Array.isArray(header)) return { ok: false, reason: 'malformed' };
	const parsed = parseSignatureHeader(header);
	if (!parsed) return { ok: false, reason: 'malformed' };

	const tolerance = params.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
	const now = params.nowSeconds ?? Math.floor(Date.now() / 1000);
	// Written so that a NaN tolerance or clock refuses rather than switching the window off.
	if (!(Math.abs(now - parsed.timestamp) <= tolerance)) return { ok: false, reason: 'stale' };

	const expected = Buffer.from(computeSignature(secret, parsed.timestamp, rawBody), 'hex');
	const matches = parsed.signatures.some((candidate) => timingSafeEqual(candidate, expected));
	return matches ? { ok: true, timestamp: parsed.timestamp } : { ok: false, reason: 'mismatch' };
}
