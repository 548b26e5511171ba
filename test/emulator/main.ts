import { startEmulator } from './emulator';

/** Standalone emulator for manual runs and end-to-end tests against a real n8n. */

function numberFromEnv(name: string): number | undefined {
	const value = process.env[name];
	if (value === undefined || value === '') return undefined;
	const parsed = Number(value);
	if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be an integer >= 0, not "${value}"`);
	return parsed;
}

async function main(): Promise<void> {
	const apiKey = process.env.EMULATOR_API_KEY;
	const emulator = await startEmulator({
		host: process.env.EMULATOR_HOST || undefined,
		port: numberFromEnv('EMULATOR_PORT'),
		uploadPort: numberFromEnv('EMULATOR_UPLOAD_PORT'),
		apiKeys: apiKey ? [apiKey] : undefined,
		webhookSecret: process.env.EMULATOR_WEBHOOK_SECRET || undefined,
		reviewDelayMs: numberFromEnv('EMULATOR_REVIEW_DELAY_MS'),
	});
	const facts = {
		baseUrl: emulator.baseUrl,
		uploadOrigin: emulator.uploadOrigin,
		apiKey: emulator.apiKey,
		webhookSecret: emulator.webhookSecret,
		inspectionUrl: emulator.inspectionUrl,
	};
	console.log(`Oversight emulator base URL: ${facts.baseUrl}`);
	console.log(`Upload origin: ${facts.uploadOrigin}`);
	console.log(`API key: ${facts.apiKey}`);
	console.log(`Webhook secret: ${facts.webhookSecret}`);
	console.log(`Inspection: ${facts.inspectionUrl}`);
	console.log(`EMULATOR_READY ${JSON.stringify(facts)}`);

	const stop = (signal: NodeJS.Signals): void => {
		console.log(`${signal}: stopping the emulator`);
		emulator.close().then(
			() => process.exit(0),
			(error: unknown) => {
				console.error(error);
				process.exit(1);
			},
		);
	};
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
