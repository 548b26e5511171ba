import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';

import type { RecordedRequest } from '../emulator/emulator';

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;

/**
 * Searches what a user or an operator can see (output items, errors, webhook answers, log lines)
 * for the secrets of the run: the API key, webhook secrets, and every presigned upload URL's
 * signature the emulator issued.
 */
export class SecretScan {
	private readonly secrets = new Map<string, string>();

	private readonly logLines: string[] = [];

	/** Told about each log line as it is written, for cases that act on a retry. */
	onLogLine: (line: string) => void = () => undefined;

	addSecret(label: string, value: string): void {
		this.secrets.set(value, label);
	}

	/** The X-Amz-Signature of every upload the emulator received: each one is a secret too. */
	addUploadSignatures(requests: readonly RecordedRequest[]): void {
		for (const request of requests.filter((entry) => entry.host === 'upload')) {
			const signature = new URLSearchParams(request.rawPath.split('?')[1] ?? '').get('X-Amz-Signature');
			if (signature) this.addSecret('upload URL signature', signature);
		}
	}

	/** Records every line n8n's logger (what ctx.logger writes to) and the console receive from now on. */
	captureLogs(): void {
		// n8n's Logger methods are read-only, and every context asks the container for the logger
		// each time it logs, so a stand-in in the container sees every line.
		const logger = Container.get(Logger);
		const capture = (level: string) => (message: unknown, metadata?: unknown) => {
			const line = `${level}: ${String(message)} ${metadata === undefined ? '' : JSON.stringify(metadata)}`;
			this.logLines.push(line);
			this.onLogLine(line);
		};
		Container.set(
			Logger,
			new Proxy(logger, {
				get: (target, property, receiver) =>
					(LOG_LEVELS as readonly PropertyKey[]).includes(property) ? capture(String(property)) : Reflect.get(target, property, receiver),
			}),
		);
		const target = console as unknown as Record<string, (...args: unknown[]) => void>;
		for (const method of CONSOLE_METHODS) {
			const original = target[method].bind(console);
			target[method] = (...args: unknown[]) => {
				this.logLines.push(args.map(String).join(' '));
				original(...args);
			};
		}
	}

	logMark(): number {
		return this.logLines.length;
	}

	logsSince(mark: number): string[] {
		return this.logLines.slice(mark);
	}

	/** "<which secret> in <where>" for every secret found in the text. */
	hits(where: string, text: string): string[] {
		const found: string[] = [];
		for (const [secret, label] of this.secrets) {
			if (text.includes(secret)) found.push(`${label} in ${where}`);
		}
		return found;
	}
}
