import type { IDataObject, INodeProperties, IWebhookFunctions } from 'n8n-workflow';

import { CLOUDFACTORY_CREDENTIAL_TYPE } from '../../credentials/CloudFactoryApi.credentials';
import type { CloudFactoryCredentials } from './connection';
import { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, verifySignature } from './signature';

export interface CallbackCheckOptions {
	/** Accept callbacks without checking X-CF-Signature. Only ever set on the user's explicit choice. */
	skipSignatureCheck?: boolean;
	toleranceSeconds?: number;
}

export const signatureOptionProperties: INodeProperties[] = [
	{
		displayName: 'Signature Tolerance (Seconds)',
		name: 'toleranceSeconds',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: DEFAULT_TOLERANCE_SECONDS,
		description: 'How old (or how far in the future) a signed callback may be before it is refused as a replay',
	},
	{
		displayName: 'Skip Signature Check (Unsafe)',
		name: 'skipSignatureCheck',
		type: 'boolean',
		default: false,
		description:
			'Whether to accept callbacks without a valid X-CF-Signature. Anyone who learns the URL can then inject fake review results: use only for local tests.',
	},
];

/**
 * Checks a callback as it arrived: the signature over the raw bytes (never over re-serialised
 * JSON), then that the body is a JSON object, then, when given, that it is for the expected task.
 * A refusal is answered here, so the caller returns `{ noWebhookResponse: true }` and nothing
 * starts or resumes.
 */
export async function receiveCallback(
	ctx: IWebhookFunctions,
	options: CallbackCheckOptions,
	/** For a waiting execution: the one task whose callback may resume it. */
	expectedTaskId?: string,
): Promise<{ accepted: true; payload: IDataObject } | { accepted: false }> {
	const req = ctx.getRequestObject();
	const refuse = (status: number, message: string) => {
		ctx.getResponseObject().status(status).json({ message });
		return { accepted: false as const };
	};

	const rawBody = Buffer.isBuffer(req.rawBody) ? req.rawBody : undefined;
	if (!rawBody) return refuse(400, 'The callback has no body');

	if (!options.skipSignatureCheck) {
		const credentials = await ctx.getCredentials<CloudFactoryCredentials>(CLOUDFACTORY_CREDENTIAL_TYPE);
		const secret = typeof credentials.webhookSecret === 'string' ? credentials.webhookSecret : '';
		if (secret === '') {
			return refuse(401, 'No webhook signing secret is set in the CloudFactory API credential, so no callback can be trusted');
		}
		const verdict = verifySignature({
			header: req.headers[SIGNATURE_HEADER],
			rawBody,
			secret,
			toleranceSeconds: options.toleranceSeconds,
		});
		if (!verdict.ok) return refuse(401, `Signature refused (${verdict.reason})`);
	}

	let payload: unknown;
	try {
		payload = JSON.parse(rawBody.toString('utf8'));
	} catch {
		return refuse(400, 'The callback body is not JSON');
	}
	if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
		return refuse(400, 'The callback body is not a JSON object');
	}
	if (expectedTaskId !== undefined && (payload as IDataObject).task_id !== expectedTaskId) {
		return refuse(409, 'The callback is not for the task this execution waits for');
	}
	return { accepted: true, payload: payload as IDataObject };
}
