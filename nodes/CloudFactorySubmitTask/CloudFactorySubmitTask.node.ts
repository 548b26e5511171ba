import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { receiveCallback } from '../shared/callbackReceiver';

import { connect } from '../shared/connection';
import { configurationIdProperty, actionNodeBasics, optionsCollection } from '../shared/descriptions';
import { runNode } from '../shared/itemRunner';
import type { JsonObject } from '../shared/oversight/client';
import { buildTaskBody } from '../shared/taskBody';
import { taskFieldProperties } from './taskFieldProperties';
import { readTaskFields } from './taskFields';
import { planWait, rememberWaitingTask, waitingTaskId, type WaitOptions, type WaitPlan } from './waitForReview';

// Its webhook is n8n's resume URL of a waiting execution, handed to CloudFactory with each task:
// there is nothing to register with CloudFactory, so no webhookMethods.
// eslint-disable-next-line @n8n/community-nodes/webhook-lifecycle-complete
export class CloudFactorySubmitTask implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'CloudFactory Submit Task',
		name: 'cloudFactorySubmitTask',
		icon: { light: 'file:../../icons/cloudfactory.svg', dark: 'file:../../icons/cloudfactory.dark.svg' },
		...actionNodeBasics,
		subtitle: '={{$parameter["mediaSource"] === "bucket" ? "Submit from mounted bucket" : "Submit uploaded media"}}',
		description: 'Create a CloudFactory Oversight review task for uploaded media or an image in a mounted bucket',
		defaults: { name: 'CloudFactory Submit Task' },
		usableAsTool: true,
		// Wait for Review resumes the execution here; the GitHub node's dispatchAndWait works alike.
		// responseData is empty so that n8n answers with webhook()'s webhookResponse, as on the trigger;
		// left undefined, n8n 2.41 sends the literal text "firstEntryJson".
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: '', restartWebhook: true, responseData: '' }],
		properties: [configurationIdProperty, ...taskFieldProperties, optionsCollection()],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// Filled in by the setup, read once the items ran: the wait starts only when a task exists.
		const plan: { wait?: WaitPlan } = {};
		const output = await runNode<JsonObject>(this, async () => {
			const { client, concurrency } = await connect(this);
			const wait = this.getNodeParameter('waitForReview', 0, false) === true ? await planWait(this) : undefined;
			plan.wait = wait;
			return {
				concurrency: wait ? 1 : concurrency,
				prepare: async (itemIndex) =>
					buildTaskBody({ ...readTaskFields(this, itemIndex), ...(wait && { callbackUrl: wait.resumeUrl }) }),
				send: async (body) => ({ result: await client.submitTask(body) }),
			};
		});
		const taskId = output[0]?.json.task_id;
		if (plan.wait && typeof taskId === 'string') {
			rememberWaitingTask(this, taskId);
			await this.putExecutionToWait(plan.wait.waitTill);
		}
		return [output];
	}

	/** CloudFactory's callback to the resume URL: the reviewed task becomes this node's output. */
	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const callback = await receiveCallback(this, this.getNodeParameter('waitOptions', {}) as WaitOptions, waitingTaskId(this));
		if (!callback.accepted) return { noWebhookResponse: true };
		return { workflowData: [[{ json: callback.payload }]], webhookResponse: { received: true } };
	}
}
