import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';

import {
	computeSignature,
	DEFAULT_TOLERANCE_SECONDS,
	parseSignatureHeader,
	SIGNATURE_HEADER,
	signatureHeader,
	verifySignature,
} from '../nodes/shared/signature';

/**
 * Decision D6 (shared/oversight-api.md): `X-CF-Signature: t=<unix seconds>;v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * Expected digests are computed here with node:crypto directly (never through the module under test),
 * and one is a literal so a change of the recipe (order, separator, encoding) fails loudly.
 */

const SECRET = 'whsec_test_0123456789';
const T = 1718000000;
const BODY = '{"task_id":"123e4567-e89b-12d3-a456-426614174000","state":"completed"}';
/** Computed once with `openssl dgst -sha256 -hmac whsec_test_0123456789` over `1718000000.<BODY>`. */
const BODY_DIGEST = '08d949eebb5099ddfb197f7088abb3ff0c55bc95150961c4720e68840e9435d1';

function hmacHex(secret: string, timestamp: number | string, body: Buffer | string): string {
	const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
	return createHmac('sha256', secret)
		.update(Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), bodyBytes]))
		.digest('hex');
}

/** A well-formed v1 value that is not the signature of anything we verify. */
const OTHER_HEX = 'ab'.repeat(32);

function verify(header: string | string[] | undefined, body: Buffer | string = BODY, extra: { secret?: string; nowSeconds?: number; toleranceSeconds?: number } = {}) {
	return verifySignature({
		header,
		rawBody: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
		secret: extra.secret ?? SECRET,
		nowSeconds: extra.nowSeconds ?? T,
		...(extra.toleranceSeconds === undefined ? {} : { toleranceSeconds: extra.toleranceSeconds }),
	});
}

const VALID = `t=${T};v1=${BODY_DIGEST}`;

describe('signature: constants', () => {
	it('uses the lower-case Node header name and a 300 s default window', () => {
		assert.equal(SIGNATURE_HEADER, 'x-cf-signature');
		assert.equal(DEFAULT_TOLERANCE_SECONDS, 300);
	});
});

describe('signature: known vectors', () => {
	it('matches a hard-coded digest (catches a change of order, separator or encoding)', () => {
		assert.equal(computeSignature(SECRET, T, BODY), BODY_DIGEST);
		assert.equal(computeSignature(SECRET, T, Buffer.from(BODY, 'utf8')), BODY_DIGEST);
		assert.equal(hmacHex(SECRET, T, BODY), BODY_DIGEST, 'the independent helper agrees with the literal');
	});

	it('matches an independent HMAC for several (secret, timestamp, body) triples', () => {
		const triples: Array<[string, number, Buffer | string]> = [
			['s3cr3t', 1, ''],
			['another secret with spaces', 1999999999, '{"a":1}'],
			['ключ-🔑', 1718000123, Buffer.from('{"note":"café ✓ 日本"}', 'utf8')],
		];
		const digests = new Set<string>();
		for (const [secret, timestamp, body] of triples) {
			const expected = hmacHex(secret, timestamp, body);
			assert.match(expected, /^[0-9a-f]{64}$/);
			assert.equal(computeSignature(secret, timestamp, body), expected, `${secret}/${timestamp}`);
			digests.add(expected);
		}
		assert.equal(digests.size, triples.length, 'distinct inputs give distinct digests');
	});

	it('signs "<t>.<body>": not body alone, not "<t><body>", not "<body>.<t>", not a base64 digest', () => {
		const actual = computeSignature(SECRET, T, BODY);
		assert.notEqual(actual, createHmac('sha256', SECRET).update(BODY).digest('hex'));
		assert.notEqual(actual, createHmac('sha256', SECRET).update(`${T}${BODY}`).digest('hex'));
		assert.notEqual(actual, createHmac('sha256', SECRET).update(`${BODY}.${T}`).digest('hex'));
		assert.notEqual(actual, createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('base64'));
		assert.notEqual(actual, createHmac('sha256', `${T}.${BODY}`).update(SECRET).digest('hex'), 'secret is the key, not the message');
	});

	it('signatureHeader is exactly "t=<t>;v1=<lower-case hex>"', () => {
		assert.equal(signatureHeader(SECRET, BODY, T), `t=1718000000;v1=${BODY_DIGEST}`);
		const bytes = Buffer.from('{"x":"ü"}', 'utf8');
		assert.equal(signatureHeader('k', bytes, 42), `t=42;v1=${hmacHex('k', 42, bytes)}`);
	});

	it('signatureHeader defaults to the current unix time in whole seconds', () => {
		const before = Math.floor(Date.now() / 1000);
		const header = signatureHeader(SECRET, BODY);
		const after = Math.floor(Date.now() / 1000);
		const match = /^t=(\d+);v1=([0-9a-f]{64})$/.exec(header);
		assert.ok(match, header);
		const t = Number(match[1]);
		assert.ok(t >= before && t <= after, `${t} not in [${before}, ${after}]`);
		assert.equal(match[2], hmacHex(SECRET, t, BODY));
		assert.deepEqual(verifySignature({ header, rawBody: Buffer.from(BODY), secret: SECRET }), { ok: true, timestamp: t });
	});
});

describe('signature: verifySignature accepts', () => {
	it('a fresh signature and reports its timestamp', () => {
		assert.deepEqual(verify(VALID), { ok: true, timestamp: T });
		assert.deepEqual(verify(signatureHeader(SECRET, BODY, T - 10)), { ok: true, timestamp: T - 10 });
	});

	it('a Buffer body with non-ASCII UTF-8 bytes', () => {
		const body = Buffer.from('{"label":"Ünïcødé ✓ 猫 🐈","n":1}', 'utf8');
		assert.ok(body.length > [...body.toString('utf8')].length, 'the body really has multi-byte characters');
		const header = `t=${T};v1=${hmacHex(SECRET, T, body)}`;
		assert.deepEqual(verify(header, body), { ok: true, timestamp: T });
	});

	it('a body that is not valid UTF-8 (raw bytes are signed, not decoded text)', () => {
		const body = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0xc3, 0x7d]);
		const header = `t=${T};v1=${hmacHex(SECRET, T, body)}`;
		assert.deepEqual(verify(header, body), { ok: true, timestamp: T });
		const lossy = Buffer.from(body.toString('utf8'), 'utf8');
		assert.notDeepEqual(lossy, body);
		assert.deepEqual(verify(header, lossy), { ok: false, reason: 'mismatch' });
	});

	it('the raw bytes as sent, not a re-serialised JSON of them', () => {
		const raw = '{ "task_id" : "abc",\n  "state": "completed" }\n';
		const reserialised = JSON.stringify(JSON.parse(raw));
		assert.notEqual(reserialised, raw);
		const header = `t=${T};v1=${hmacHex(SECRET, T, raw)}`;
		assert.deepEqual(verify(header, raw), { ok: true, timestamp: T });
		assert.deepEqual(verify(header, reserialised), { ok: false, reason: 'mismatch' });
	});

	it('an empty body', () => {
		const header = `t=${T};v1=${hmacHex(SECRET, T, '')}`;
		assert.deepEqual(verify(header, Buffer.alloc(0)), { ok: true, timestamp: T });
	});
});

describe('signature: verifySignature refuses a signature that does not match', () => {
	it('a wrong secret', () => {
		assert.deepEqual(verify(VALID, BODY, { secret: 'whsec_test_0123456788' }), { ok: false, reason: 'mismatch' });
		assert.deepEqual(verify(VALID, BODY, { secret: '' }), { ok: false, reason: 'mismatch' });
	});

	it('a tampered body (one byte changed, one byte appended, trailing newline)', () => {
		const flipped = Buffer.from(BODY, 'utf8');
		flipped[flipped.length - 3] ^= 0x01;
		assert.deepEqual(verify(VALID, flipped), { ok: false, reason: 'mismatch' });
		assert.deepEqual(verify(VALID, `${BODY} `), { ok: false, reason: 'mismatch' });
		assert.deepEqual(verify(VALID, `${BODY}\n`), { ok: false, reason: 'mismatch' });
		assert.deepEqual(verify(VALID, BODY.replace('completed', 'rejected')), { ok: false, reason: 'mismatch' });
	});

	it('a genuine signature over a different body', () => {
		const other = '{"task_id":"00000000-0000-0000-0000-000000000000","state":"completed"}';
		assert.deepEqual(verify(signatureHeader(SECRET, other, T), BODY), { ok: false, reason: 'mismatch' });
	});

	it('a genuine digest moved to another timestamp (the timestamp is signed)', () => {
		assert.deepEqual(verify(`t=${T + 1};v1=${BODY_DIGEST}`), { ok: false, reason: 'mismatch' });
	});

	it('a well-formed but arbitrary v1', () => {
		assert.deepEqual(verify(`t=${T};v1=${OTHER_HEX}`), { ok: false, reason: 'mismatch' });
		assert.deepEqual(verify(`t=${T};v1=${'0'.repeat(64)}`), { ok: false, reason: 'mismatch' });
	});
});

describe('signature: verifySignature timestamp window', () => {
	it('refuses a timestamp just beyond the default tolerance in the past as stale', () => {
		const t = T - DEFAULT_TOLERANCE_SECONDS - 1;
		assert.deepEqual(verify(signatureHeader(SECRET, BODY, t)), { ok: false, reason: 'stale' });
	});

	it('refuses a timestamp just beyond the default tolerance in the future as stale', () => {
		const t = T + DEFAULT_TOLERANCE_SECONDS + 1;
		assert.deepEqual(verify(signatureHeader(SECRET, BODY, t)), { ok: false, reason: 'stale' });
	});

	it('accepts exactly at the tolerance edge, both ways', () => {
		for (const t of [T - DEFAULT_TOLERANCE_SECONDS, T + DEFAULT_TOLERANCE_SECONDS]) {
			assert.deepEqual(verify(signatureHeader(SECRET, BODY, t)), { ok: true, timestamp: t }, String(t));
		}
	});

	it('checks staleness before the signature (a stale forged header says stale, not mismatch)', () => {
		assert.deepEqual(verify(`t=${T - 10_000};v1=${OTHER_HEX}`), { ok: false, reason: 'stale' });
	});

	it('honours a custom toleranceSeconds', () => {
		const header = signatureHeader(SECRET, BODY, T - 30);
		assert.deepEqual(verify(header, BODY, { toleranceSeconds: 30 }), { ok: true, timestamp: T - 30 });
		assert.deepEqual(verify(header, BODY, { toleranceSeconds: 29 }), { ok: false, reason: 'stale' });
		const old = signatureHeader(SECRET, BODY, T - 3600);
		assert.deepEqual(verify(old), { ok: false, reason: 'stale' }, 'outside the default window');
		assert.deepEqual(verify(old, BODY, { toleranceSeconds: 3600 }), { ok: true, timestamp: T - 3600 });
	});

	it('treats toleranceSeconds 0 as "same second only", not as the default', () => {
		assert.deepEqual(verify(VALID, BODY, { toleranceSeconds: 0 }), { ok: true, timestamp: T });
		assert.deepEqual(verify(signatureHeader(SECRET, BODY, T - 1), BODY, { toleranceSeconds: 0 }), { ok: false, reason: 'stale' });
	});

	it('uses the clock when nowSeconds is omitted', () => {
		const header = signatureHeader(SECRET, BODY, T);
		assert.deepEqual(verifySignature({ header, rawBody: Buffer.from(BODY), secret: SECRET }), { ok: false, reason: 'stale' });
	});
});

describe('signature: verifySignature missing and malformed headers', () => {
	it('reports a missing header', () => {
		assert.deepEqual(verify(undefined), { ok: false, reason: 'missing' });
		assert.deepEqual(verify(''), { ok: false, reason: 'missing' });
	});

	it('reports an array header (a repeated header) as malformed, even with one valid element', () => {
		assert.deepEqual(verify([VALID]), { ok: false, reason: 'malformed' });
		assert.deepEqual(verify([VALID, VALID]), { ok: false, reason: 'malformed' });
		assert.deepEqual(verify([]), { ok: false, reason: 'malformed' });
	});

	const digest = BODY_DIGEST;
	const malformed: Array<[string, string]> = [
		['garbage', 'not a signature'],
		['whitespace only', '   '],
		['non-numeric t', `t=abc;v1=${digest}`],
		['negative t', `t=-${T};v1=${digest}`],
		['fractional t', `t=${T}.5;v1=${digest}`],
		['empty t', `t=;v1=${digest}`],
		['t longer than 12 digits', `t=1${'0'.repeat(12)};v1=${digest}`],
		['no t', `v1=${digest}`],
		['no v1', `t=${T}`],
		['two t', `t=${T};t=${T};v1=${digest}`],
		['v1 not hex', `t=${T};v1=${'z'.repeat(64)}`],
		['v1 of 63 chars', `t=${T};v1=${digest.slice(0, 63)}`],
		['v1 of 65 chars', `t=${T};v1=${digest}0`],
		['v1 of 128 chars', `t=${T};v1=${digest}${digest}`],
		['v1 base64', `t=${T};v1=${Buffer.from(digest, 'hex').toString('base64')}`],
		['empty v1', `t=${T};v1=`],
		['unknown key v0', `t=${T};v0=${digest};v1=${digest}`],
		['unknown key only', `t=${T};v0=${digest}`],
		['upper-case key', `T=${T};V1=${digest}`],
		['empty part', `t=${T};;v1=${digest}`],
		['trailing separator', `t=${T};v1=${digest};`],
		['leading separator', `;t=${T};v1=${digest}`],
		['comma separator', `t=${T},v1=${digest}`],
		['comma and space separator', `t=${T}, v1=${digest}`],
		['space around =', `t = ${T};v1=${digest}`],
		['no =', `t${T};v1${digest}`],
		['inner space in value', `t=${T};v1=${digest.slice(0, 32)} ${digest.slice(32)}`],
		['prefixed scheme', `sha256=${digest}`],
	];
	for (const [name, header] of malformed) {
		it(`reports a malformed header: ${name}`, () => {
			assert.deepEqual(verify(header), { ok: false, reason: 'malformed' }, header);
			assert.equal(parseSignatureHeader(header), undefined, header);
		});
	}

	it('refuses a header longer than 1024 characters, even if otherwise valid', () => {
		const padded = (length: number) => `t=${T};${' '.repeat(length - VALID.length)}v1=${digest}`;
		const atLimit = padded(1024);
		const overLimit = padded(1025);
		assert.equal(atLimit.length, 1024);
		assert.equal(overLimit.length, 1025);
		assert.deepEqual(verify(atLimit), { ok: true, timestamp: T }, '1024 characters is still accepted');
		assert.deepEqual(verify(overLimit), { ok: false, reason: 'malformed' });
		assert.deepEqual(verify(`t=${T};v1=${digest};${'x'.repeat(2000)}`), { ok: false, reason: 'malformed' });
	});
});

describe('signature: tolerant parsing', () => {
	it('accepts spaces around parts', () => {
		assert.deepEqual(verify(`t=${T} ; v1=${BODY_DIGEST}`), { ok: true, timestamp: T });
		assert.deepEqual(verify(`  t=${T};v1=${BODY_DIGEST}  `), { ok: true, timestamp: T });
		assert.deepEqual(verify(`t=${T}\t;\tv1=${BODY_DIGEST}`), { ok: true, timestamp: T });
	});

	it('parses `t=1 ; v1=<hex>` into its parts', () => {
		const parsed = parseSignatureHeader(`t=1 ; v1=${OTHER_HEX}`);
		assert.ok(parsed);
		assert.equal(parsed.timestamp, 1);
		assert.deepEqual(parsed.signatures, [Buffer.from(OTHER_HEX, 'hex')]);
	});

	it('accepts the parts in reverse order', () => {
		assert.deepEqual(verify(`v1=${BODY_DIGEST};t=${T}`), { ok: true, timestamp: T });
	});

	it('accepts upper-case and mixed-case hex', () => {
		assert.deepEqual(verify(`t=${T};v1=${BODY_DIGEST.toUpperCase()}`), { ok: true, timestamp: T });
		const mixed = [...BODY_DIGEST].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('');
		assert.deepEqual(verify(`t=${T};v1=${mixed}`), { ok: true, timestamp: T });
	});

	it('accepts leading zeros in t as the same number', () => {
		const parsed = parseSignatureHeader(`t=0001;v1=${OTHER_HEX}`);
		assert.equal(parsed?.timestamp, 1);
	});
});

describe('signature: secret rotation (several v1 values)', () => {
	const oldSecret = 'whsec_old';
	const newSecret = 'whsec_new';
	const oldSig = hmacHex(oldSecret, T, BODY);
	const newSig = hmacHex(newSecret, T, BODY);

	it('accepts when either v1 matches the secret', () => {
		const header = `t=${T};v1=${oldSig};v1=${newSig}`;
		assert.deepEqual(verify(header, BODY, { secret: oldSecret }), { ok: true, timestamp: T });
		assert.deepEqual(verify(header, BODY, { secret: newSecret }), { ok: true, timestamp: T });
		assert.deepEqual(verify(`t=${T};v1=${OTHER_HEX};v1=${newSig}`, BODY, { secret: newSecret }), { ok: true, timestamp: T });
		assert.deepEqual(verify(`v1=${newSig};t=${T};v1=${OTHER_HEX}`, BODY, { secret: newSecret }), { ok: true, timestamp: T });
	});

	it('refuses with mismatch when no v1 matches', () => {
		assert.deepEqual(verify(`t=${T};v1=${oldSig};v1=${newSig}`, BODY, { secret: 'whsec_third' }), { ok: false, reason: 'mismatch' });
		assert.deepEqual(verify(`t=${T};v1=${OTHER_HEX};v1=${'cd'.repeat(32)}`), { ok: false, reason: 'mismatch' });
	});

	it('accepts up to 5 v1 values, with the valid one last', () => {
		const header = `t=${T};${Array(4).fill(`v1=${OTHER_HEX}`).join(';')};v1=${BODY_DIGEST}`;
		assert.equal(parseSignatureHeader(header)?.signatures.length, 5);
		assert.deepEqual(verify(header), { ok: true, timestamp: T });
	});

	it('refuses more than 5 v1 values as malformed, even when one is valid', () => {
		const header = `t=${T};v1=${BODY_DIGEST};${Array(5).fill(`v1=${OTHER_HEX}`).join(';')}`;
		assert.equal(header.split(';').length, 7);
		assert.deepEqual(verify(header), { ok: false, reason: 'malformed' });
		assert.equal(parseSignatureHeader(header), undefined);
	});
});

describe('a window that is not a number', () => {
	it('refuses instead of accepting a replay of any age', () => {
		const body = Buffer.from('{}');
		const header = signatureHeader('k', body, 1000);
		const stale = { ok: false, reason: 'stale' };
		assert.deepEqual(verifySignature({ header, rawBody: body, secret: 'k', nowSeconds: 1000, toleranceSeconds: NaN }), stale);
		assert.deepEqual(verifySignature({ header, rawBody: body, secret: 'k', nowSeconds: NaN }), stale);
	});
});
