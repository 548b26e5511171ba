import { writeFileSync } from 'node:fs';

import type { SecretScan } from './secretScan';

export type Matrix = 'faults' | 'badInput' | 'callbackAttacks';

export interface Row {
	matrix: Matrix;
	name: string;
	expected: string;
	observed: string;
	pass: boolean;
	secretHits: number;
}

const TITLES: Record<Matrix, string> = {
	faults: '1. Faults',
	badInput: '2. Bad input',
	callbackAttacks: '3. Callback attacks (trigger and wait webhook)',
};

/** What a case body reports while it runs. */
export interface Scope {
	/** A fact taken from what actually happened; it goes to the Observed column. */
	fact(text: string): void;
	/** Text a user or operator could see (outputs, errors, answers): searched for secrets. */
	exposed(where: string, text: unknown): void;
}

/**
 * Collects what each case saw. Facts are recorded before they are asserted, so a failing case
 * still leaves its true observation in the report. Every case ends with the secret scan over
 * what it exposed and the log lines written meanwhile.
 */
export class Report {
	readonly rows: Row[] = [];

	/** `learnSecrets` is called before each scan, for secrets made during the run (upload URLs). */
	constructor(
		private readonly scan: SecretScan,
		private readonly learnSecrets: () => void,
	) {}

	async check(matrix: Matrix, name: string, expected: string, body: (scope: Scope) => Promise<void>): Promise<void> {
		const facts: string[] = [];
		const hits: string[] = [];
		const logMark = this.scan.logMark();
		const scope: Scope = {
			fact: (text) => facts.push(text),
			exposed: (where, value) => {
				this.learnSecrets();
				hits.push(...this.scan.hits(where, typeof value === 'string' ? value : JSON.stringify(value) ?? ''));
			},
		};
		let failure: unknown;
		try {
			await body(scope);
		} catch (error) {
			failure = error;
			facts.push(`FAILED: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
		}
		this.learnSecrets();
		hits.push(...this.scan.hits('log lines', this.scan.logsSince(logMark).join('\n')));
		facts.push(hits.length === 0 ? 'no secret seen' : `SECRETS SEEN: ${hits.join(', ')}`);
		if (failure === undefined && hits.length > 0) failure = new Error(`Secrets exposed: ${hits.join(', ')}`);
		this.rows.push({ matrix, name, expected, observed: facts.join('; '), pass: failure === undefined, secretHits: hits.length });
		if (failure !== undefined) throw failure;
	}

	/** Deterministic: rows sorted as declared, no times, so the file only changes when results do. */
	write(path: string, preface: string): void {
		const lines = [preface, ''];
		const total = { cases: 0, passed: 0, secretHits: 0 };
		for (const matrix of Object.keys(TITLES) as Matrix[]) {
			const rows = this.rows.filter((row) => row.matrix === matrix);
			const passed = rows.filter((row) => row.pass).length;
			const secretHits = rows.reduce((sum, row) => sum + row.secretHits, 0);
			total.cases += rows.length;
			total.passed += passed;
			total.secretHits += secretHits;
			lines.push(`## ${TITLES[matrix]}`, '', `${rows.length} cases, ${passed} passed, ${secretHits} secret hits.`, '');
			lines.push('| # | Case | Expected | Observed | Pass |', '|---|---|---|---|---|');
			rows.forEach((row, index) =>
				lines.push(`| ${index + 1} | ${cell(row.name)} | ${cell(row.expected)} | ${cell(row.observed)} | ${row.pass ? 'yes' : '**NO**'} |`),
			);
			lines.push('');
		}
		lines.splice(
			2,
			0,
			'## Totals',
			'',
			'| Matrix | Cases | Passed | Secret hits |',
			'|---|---|---|---|',
			...(Object.keys(TITLES) as Matrix[]).map((matrix) => {
				const rows = this.rows.filter((row) => row.matrix === matrix);
				return `| ${TITLES[matrix]} | ${rows.length} | ${rows.filter((row) => row.pass).length} | ${rows.reduce((sum, row) => sum + row.secretHits, 0)} |`;
			}),
			`| **All** | **${total.cases}** | **${total.passed}** | **${total.secretHits}** |`,
			'',
		);
		writeFileSync(path, `${lines.join('\n').trimEnd()}\n`);
	}
}

function cell(text: string): string {
	return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
