import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startEmulator } from './emulator/emulator';
import { shutdownEngine } from './harness/engine';
import { startWaitingWebhookServer } from './harness/waitingWebhookServer';
import { writeTestFile } from './helpers/files';
import {
	badInputCases,
	pathCharacterTaskIds,
	runBadInputCase,
	runLongStringsCase,
	runMixedItemsCase,
	runPathCharacterCase,
	runUnicodeFileNameCase,
	UNICODE_FILE_NAME,
} from './reliability/badInput';
import { attackCases, attackTrigger, attackWaitWebhook, crossTaskAttack, describeAttackExpectation } from './reliability/callbackAttacks';
import { API_KEY, OTHER_CREDENTIAL_SECRET, WEBHOOK_SECRET, type Env } from './reliability/env';
import { describeExpectation, faultCases, refusedConnectionCases, runFaultCase, runRefusedConnectionCase } from './reliability/faults';
import { Report } from './reliability/report';
import { SecretScan } from './reliability/secretScan';

const REPORT_PATH = join(__dirname, '..', '..', 'docs', 'RELIABILITY.md');

const PREFACE = `# Reliability matrix

Written by \`test/reliability.test.ts\` (part of \`npm test\`; alone: \`npm run build && npm run build:test && node --test build/test/reliability.test.js\`).
Every case runs the nodes in n8n-core's workflow engine against the local Oversight emulator over
loopback HTTP; callbacks go over HTTP to the trigger's and to Submit Task's wait webhook. "off" and
"on" are runs with Continue On Fail off and on. Every case also searches the run's data (outputs,
errors, descriptions), the webhook answers and every log line written meanwhile for the API key,
the webhook secrets and every presigned upload URL's signature. The Observed column is made from
what each run did, not copied from the expectation.`;

const scan = new SecretScan();
let env: Env;
let report: Report;

before(async () => {
	const emulator = await startEmulator({ apiKeys: [API_KEY], webhookSecret: WEBHOOK_SECRET, reviewDelayMs: 600_000 });
	env = { emulator, imagePath: await writeTestFile('reliability.png', 256 * 1024), waiting: await startWaitingWebhookServer() };
	for (const [label, secret] of [
		['API key', API_KEY],
		['webhook secret', WEBHOOK_SECRET],
		["another credential's webhook secret", OTHER_CREDENTIAL_SECRET],
	]) {
		scan.addSecret(label, secret);
	}
	report = new Report(scan, () => scan.addUploadSignatures(emulator.requests));
	scan.captureLogs();
});

/** Cases that are not one-per-table-row: path characters, unicode file name, long strings, mixed items. */
const SINGLE_CASES = 4;

after(async () => {
	const declared = faultCases.length + refusedConnectionCases.length + badInputCases.length + SINGLE_CASES + attackCases.length + 1;
	// A run of some cases only (--test-name-pattern) must not replace the full report.
	if (report.rows.length === declared) report.write(REPORT_PATH, PREFACE);
	shutdownEngine();
	await env.waiting.close();
	await env.emulator.close();
});

describe('reliability matrix', () => {
	it('the secret scan finds a planted secret (so zero hits means something)', () => {
		assert.deepEqual(scan.hits('a planted error', `failed: key ${API_KEY} was refused`), ['API key in a planted error']);
	});

	describe('1. faults', () => {
		for (const testCase of faultCases) {
			it(testCase.name, () => report.check('faults', testCase.name, describeExpectation(testCase), (scope) => runFaultCase(env, testCase, scope)));
		}
		for (const testCase of refusedConnectionCases) {
			it(testCase.name, () =>
				report.check('faults', testCase.name, testCase.expect, (scope) =>
					runRefusedConnectionCase(env, testCase, scope, (listener) => (scan.onLogLine = listener)),
				),
			);
		}
	});

	describe('2. bad input', () => {
		for (const testCase of badInputCases) {
			it(testCase.name, () =>
				report.check(
					'badInput',
					testCase.name,
					`refused before any request: "${testCase.message.source.replace(/[\\^$]/g, '')}"; off: the node stops; on: 1 output item, the error item`,
					(scope) => runBadInputCase(env, testCase, scope),
				),
			);
		}
		it('Task Status: Task IDs with path characters', () =>
			report.check(
				'badInput',
				`Task Status: Task IDs with path characters (${pathCharacterTaskIds.map((id) => JSON.stringify(id)).join(', ')})`,
				'each sent as one encoded path segment of /v1/tasks/, no query or fragment; a clear 404 per item',
				(scope) => runPathCharacterCase(env, scope),
			));
		it('Upload Media: a unicode file name', () =>
			report.check('badInput', `Upload Media: a unicode file name (${UNICODE_FILE_NAME})`, 'uploaded; file_name intact in the output; encoded in the upload path', (scope) =>
				runUnicodeFileNameCase(env, scope),
			));
		it('very long strings', () =>
			report.check(
				'badInput',
				'very long strings (100,000 characters)',
				'in the body (metadata, tag): sent intact; as Task ID: refused before any request, naming the item and field',
				(scope) => runLongStringsCase(env, scope),
			));
		it('20 items, 5 of them bad', () =>
			report.check(
				'badInput',
				'20 items, 5 of them bad (empty Media Key)',
				'off: "Item 0: Media Key is empty", 0 requests; on: 20 output items in order, error items 0,4,9,13,19, 15 tasks, no duplicate',
				(scope) => runMixedItemsCase(env, scope),
			));
	});

	describe('3. callback attacks', () => {
		for (const attack of attackCases) {
			it(attack.name, () =>
				report.check('callbackAttacks', attack.name, describeAttackExpectation(attack), async (scope) => {
					await attackTrigger(env, attack, scope);
					await attackWaitWebhook(env, attack, scope);
				}),
			);
		}
		it(crossTaskAttack.name, () =>
			report.check(
				'callbackAttacks',
				`${crossTaskAttack.name} (wait webhook only: the trigger takes every task by design)`,
				describeAttackExpectation(crossTaskAttack),
				(scope) => attackWaitWebhook(env, crossTaskAttack, scope),
			));
	});
});
