import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import { CLOUDFACTORY_CREDENTIAL_TYPE } from '../../credentials/CloudFactoryApi.credentials';
import { OversightClient, normaliseBaseUrl } from './oversight/client';
import { ItemParameters } from './parameters';

export interface CloudFactoryCredentials {
	apiKey: string;
	baseUrl: string;
	webhookSecret?: string;
}

export interface RunSettings {
	client: OversightClient;
	concurrency: number;
}

export const MAX_CONCURRENCY = 32;

/**
 * The client and the options shared by every action node, read once per execution from the
 * credential and from item 0's options.
 */
export async function connect(ctx: IExecuteFunctions): Promise<RunSettings> {
	const first = new ItemParameters(ctx, 0);
	const concurrency = first.boundedInteger('options.concurrency', 'Concurrency', 4, 1, MAX_CONCURRENCY);
	const timeoutSeconds = first.boundedInteger('options.timeout', 'Timeout', 60, 1, 3600);

	const credentials = await ctx.getCredentials<CloudFactoryCredentials>(CLOUDFACTORY_CREDENTIAL_TYPE);
	const apiKey = typeof credentials.apiKey === 'string' ? credentials.apiKey.trim() : '';
	if (apiKey === '') {
		throw new NodeOperationError(ctx.getNode(), 'The CloudFactory API credential has no API key');
	}
	let baseUrl: string;
	try {
		baseUrl = normaliseBaseUrl(String(credentials.baseUrl ?? ''));
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message);
	}

	const client = new OversightClient(
		{ apiKey, baseUrl },
		{
			responseTimeoutMs: timeoutSeconds * 1000,
			signal: ctx.getExecutionCancelSignal(),
			log: (line) => ctx.logger.warn(line),
		},
	);
	return { client, concurrency };
}
