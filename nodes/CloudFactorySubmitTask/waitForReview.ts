import {
	NodeOperationError,
	WAIT_INDEFINITELY,
	type IExecuteFunctions,
	type IRunExecutionData,
	type IWebhookFunctions,
} from 'n8n-workflow';

import { CLOUDFACTORY_CREDENTIAL_TYPE } from '../../credentials/CloudFactoryApi.credentials';
import type { CallbackCheckOptions } from '../shared/callbackReceiver';
import type { CloudFactoryCredentials } from '../shared/connection';
import { isUnreachableFromInternet } from '../shared/reachability';

export interface WaitOptions extends CallbackCheckOptions {
	maxWaitHours?: number;
	allowUnreachableResumeUrl?: boolean;
}

export interface WaitPlan {
	resumeUrl: string;
	waitTill: Date;
}

/**
 * Everything that could make waiting fail is checked here, before the task exists, so that a bad
 * option never leaves a paid task without a listener.
 */
export async function planWait(ctx: IExecuteFunctions): Promise<WaitPlan> {
	const node = ctx.getNode();
	const itemCount = ctx.getInputData().length;
	if (itemCount !== 1) {
		throw new NodeOperationError(node, `Wait for Review handles one item per execution, but ${itemCount} items arrived`, {
			description: 'Put a Loop Over Items node (batch size 1) before this node, or call a sub-workflow per item.',
		});
	}
	const options = ctx.getNodeParameter('waitOptions', 0, {}) as WaitOptions;

	const hours = options.maxWaitHours ?? 72;
	if (typeof hours !== 'number' || !Number.isFinite(hours) || hours < 0) {
		throw new NodeOperationError(node, 'Item 0: Max Wait (Hours) must be a number of hours, 0 or more', { itemIndex: 0 });
	}
	const waitTill = hours === 0 ? WAIT_INDEFINITELY : new Date(Date.now() + hours * 3_600_000);

	// Never built by hand: n8n decides its shape, and it may carry a token.
	const resumeUrl = String(ctx.getWorkflowDataProxy(0).$execution.resumeUrl);
	if (isUnreachableFromInternet(resumeUrl) && !options.allowUnreachableResumeUrl) {
		throw new NodeOperationError(node, `CloudFactory could not reach this n8n: its resume URL starts with ${new URL(resumeUrl).origin}`, {
			description:
				"Set the WEBHOOK_URL environment variable to n8n's public address. For local tests, turn on Wait Options > Allow Unreachable Resume URL.",
		});
	}

	if (!options.skipSignatureCheck) {
		const credentials = await ctx.getCredentials<CloudFactoryCredentials>(CLOUDFACTORY_CREDENTIAL_TYPE);
		if (!credentials.webhookSecret) {
			throw new NodeOperationError(node, 'Wait for Review needs the Webhook Signing Secret in the CloudFactory API credential', {
				description: 'Without it no callback can be trusted, so the execution could never continue.',
			});
		}
	}
	return { resumeUrl, waitTill };
}

/** n8n keeps an execution's custom data through the wait; the key allows only A-Za-z0-9_. */
const WAITING_TASK_KEY = 'cloudFactoryTaskId';
/** n8n's documented limit for a custom data value; a longer task ID is not remembered. */
const MAX_CUSTOM_DATA_VALUE_LENGTH = 255;

/**
 * Remembers which task this execution waits for, so that a genuine callback for another task (one
 * replayed to this resume URL) cannot resume it.
 */
export function rememberWaitingTask(ctx: IExecuteFunctions, taskId: string): void {
	if (taskId.length > MAX_CUSTOM_DATA_VALUE_LENGTH) return;
	ctx.getWorkflowDataProxy(0).$execution.customData.set(WAITING_TASK_KEY, taskId);
}

/** The task the waiting execution was created for, when it was remembered. */
export function waitingTaskId(ctx: IWebhookFunctions): string | undefined {
	const value = customDataByExpression(ctx) ?? customDataOfContext(ctx);
	return typeof value === 'string' && value !== '' ? value : undefined;
}

function customDataByExpression(ctx: IWebhookFunctions): unknown {
	try {
		return ctx.evaluateExpression(`{{ $execution.customData?.get("${WAITING_TASK_KEY}") }}`);
	} catch {
		return undefined;
	}
}

/**
 * n8n 2.41's expressions give a resumed webhook no `$execution.customData`, although the execution
 * it resumes still carries it (seen in the end-to-end test); n8n-core's webhook context holds that
 * execution as `runExecutionData`. Without either, the check is skipped: the signature still is not.
 */
function customDataOfContext(ctx: IWebhookFunctions): unknown {
	const { runExecutionData } = ctx as IWebhookFunctions & { runExecutionData?: IRunExecutionData | null };
	return runExecutionData?.resultData?.metadata?.[WAITING_TASK_KEY];
}
