import { createRequire } from 'node:module';
import { join } from 'node:path';

import type { N8nInstance } from './n8nInstance';

export interface ExecutionSummary {
	id: string;
	status: string;
	workflowId: string;
	mode: string;
}

export const OWNER = { email: 'owner@example.com', firstName: 'E2E', lastName: 'Owner', password: 'E2e-Password-1' };

/** n8n's own REST API, as its editor uses it: an owner account and its session cookie. */
export class N8nRest {
	private cookie = '';

	private readonly parseFlatted: (text: string) => unknown;

	constructor(private readonly instance: N8nInstance) {
		// Execution data travels in n8n's "flatted" encoding; n8n ships the decoder.
		const requireFromN8n = createRequire(join(instance.runtime.dir, 'node_modules', 'n8n', 'package.json'));
		this.parseFlatted = (requireFromN8n('flatted') as { parse: (text: string) => unknown }).parse;
	}

	async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
		const response = await fetch(`${this.instance.baseUrl}/rest${path}`, {
			method,
			headers: { 'content-type': 'application/json', cookie: this.cookie, 'browser-id': 'cloudfactory-e2e' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const setCookie = response.headers.get('set-cookie');
		if (setCookie) this.cookie = setCookie.split(';')[0];
		const text = await response.text();
		const parsed = text ? (JSON.parse(text) as { data: T }) : ({ data: undefined } as { data: T });
		return { status: response.status, data: parsed.data };
	}

	/** A JSON file outside /rest that needs the session, such as /types/nodes.json. */
	async getJson<T>(path: string): Promise<T> {
		const response = await fetch(`${this.instance.baseUrl}${path}`, { headers: { cookie: this.cookie, 'browser-id': 'cloudfactory-e2e' } });
		if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
		return (await response.json()) as T;
	}

	async setUpOwner(): Promise<void> {
		const setup = await this.request('POST', '/owner/setup', OWNER);
		if (setup.status !== 200) {
			const login = await this.request('POST', '/login', { emailOrLdapLoginId: OWNER.email, password: OWNER.password });
			if (login.status !== 200) throw new Error(`Cannot log in to n8n: ${login.status}`);
		}
	}

	async executions(workflowId: string): Promise<ExecutionSummary[]> {
		return (await this.executionPage(workflowId)).results;
	}

	/** The newest executions first, and how many the workflow has in all. */
	async executionPage(workflowId: string, limit?: number): Promise<{ count: number; results: ExecutionSummary[] }> {
		const filter = encodeURIComponent(JSON.stringify({ workflowId }));
		const { data } = await this.request<{ count: number; results: ExecutionSummary[] }>(
			'GET',
			`/executions?filter=${filter}${limit === undefined ? '' : `&limit=${limit}`}`,
		);
		return data;
	}

	async executionData(id: string): Promise<{ status: string; data: { resultData: { runData: Record<string, unknown> } } }> {
		const { data } = await this.request<{ status: string; data: string }>('GET', `/executions/${id}`);
		return { status: data.status, data: this.parseFlatted(data.data) as never };
	}

	async testCredential(credential: { name: string; type: string; data: Record<string, string> }) {
		const { data } = await this.request<{ status: string; message: string }>('POST', '/credentials/test', { credentials: credential });
		return data;
	}
}
