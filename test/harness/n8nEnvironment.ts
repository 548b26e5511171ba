import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// n8n-core reads these when it is first loaded, so this module must be imported before it.
// A private user folder keeps n8n-core from writing ~/.n8n; filesystem mode is n8n's default
// outside queue mode, and the one where binaries are not in memory.
const userFolder = mkdtempSync(join(tmpdir(), 'cf-n8n-'));
process.env.N8N_USER_FOLDER = userFolder;
process.env.N8N_ENCRYPTION_KEY ??= 'test-encryption-key';
process.env.N8N_DEFAULT_BINARY_DATA_MODE = 'filesystem';
process.env.N8N_BINARY_DATA_STORAGE_PATH = join(userFolder, 'binaryData');
process.env.N8N_DIAGNOSTICS_ENABLED = 'false';

export const N8N_USER_FOLDER = userFolder;
