import { join } from 'node:path';

import { startEmulator } from '../emulator/emulator';
import { N8nRest, OWNER } from './n8nRest';
import { REPO_ROOT } from './n8nRuntime';
import { EXAMPLES, prepareN8n, readExample } from './scenario';

/**
 * npm start: the emulator and a real n8n with this package, the emulator's credential and the
 * example workflows, on 127.0.0.1. Ctrl-C stops both.
 */
async function main(): Promise<void> {
	const log = (line: string) => console.log(`> ${line}`);
	const emulator = await startEmulator({
		port: Number(process.env.EMULATOR_PORT ?? 8787),
		uploadPort: Number(process.env.EMULATOR_UPLOAD_PORT ?? 8788),
		reviewDelayMs: Number(process.env.EMULATOR_REVIEW_DELAY_MS ?? 5000),
	});
	log(`Oversight emulator at ${emulator.baseUrl} (state: ${emulator.inspectionUrl})`);
	const n8n = await prepareN8n({
		emulator,
		port: Number(process.env.N8N_PORT ?? 5678),
		userFolder: join(REPO_ROOT, '.cache', 'start-n8n-home'),
		log,
	});
	await n8n.cli(['publish:workflow', `--id=${EXAMPLES.oversightTrigger.id}`]);
	log(`Starting n8n ${n8n.runtime.version}`);
	await n8n.start();
	await new N8nRest(n8n).setUpOwner();

	const trigger = readExample(EXAMPLES.oversightTrigger);
	console.log(`
n8n is running with n8n-nodes-cloudfactory, talking to the local Oversight emulator.

  Open        ${n8n.baseUrl}
  Log in as   ${OWNER.email} / ${OWNER.password}

  1. Open "${readExample(EXAMPLES.uploadSubmitStatus).name}" and click "Execute workflow":
     an image is uploaded, a task created and its status read.
  2. Open "${readExample(EXAMPLES.submitAndWait).name}" and execute it: it waits, and the
     emulator's reviewer calls back after ${Math.round(Number(process.env.EMULATOR_REVIEW_DELAY_MS ?? 5000) / 1000)} s; the execution then finishes
     (Executions tab).
  3. "${trigger.name}" is active: tasks whose Callback URL is
     ${n8n.baseUrl}/webhook/${trigger.nodes[0].webhookId}/webhook
     start it when the emulator completes them.

  What the emulator received: ${emulator.inspectionUrl}
  Ctrl-C stops n8n and the emulator.
`);

	const stop = async () => {
		log('Stopping n8n and the emulator');
		await n8n.stop();
		await emulator.close();
		process.exit(0);
	};
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
