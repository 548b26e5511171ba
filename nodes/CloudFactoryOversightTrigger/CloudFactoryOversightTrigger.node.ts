import {
	NodeConnectionTypes,
	type IDataObject,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { CLOUDFACTORY_CREDENTIAL_TYPE } from '../../credentials/CloudFactoryApi.credentials';
import { receiveCallback, signatureOptionProperties, type CallbackCheckOptions } from '../shared/callbackReceiver';
import { RedeliveryFilter } from './redeliveryFilter';

interface TriggerOptions extends CallbackCheckOptions {
	states?: string;
	ignoreRedeliveries?: boolean;
	redeliveryWindowHours?: number;
}

// CloudFactory has no API to register a webhook: the URL travels with each task as its
// callback_url, so there is nothing for webhookMethods to create, check or delete.
// eslint-disable-next-line @n8n/community-nodes/webhook-lifecycle-complete
export class CloudFactoryOversightTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'CloudFactory Oversight Trigger',
		name: 'cloudFactoryOversightTrigger',
		icon: { light: 'file:../../icons/cloudfactory.svg', dark: 'file:../../icons/cloudfactory.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: 'On reviewed task',
		description: 'Starts the workflow when CloudFactory calls back with a reviewed task',
		defaults: { name: 'CloudFactory Oversight Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: CLOUDFACTORY_CREDENTIAL_TYPE, required: true }],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: 'webhook',
				// Empty, so n8n answers with webhook()'s webhookResponse; left undefined, n8n 2.8 sends
				// the literal text "firstEntryJson".
				responseData: '',
			},
		],
		properties: [
			{
				displayName:
					'Give CloudFactory this node\'s <b>Production URL</b> (…/webhook/…/webhook, shown above) as the Callback URL of your tasks, and activate the workflow. The Test URL (…/webhook-test/…) answers only while "Listen for test event" runs, so CloudFactory\'s callbacks would be lost.',
				name: 'productionUrlNotice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Ignore Redeliveries',
						name: 'ignoreRedeliveries',
						type: 'boolean',
						default: true,
						description:
							'Whether to drop a callback for a task and state already received. CloudFactory sends a callback again when it did not get a 200 in time.',
					},
					{
						displayName: 'Only These States',
						name: 'states',
						type: 'string',
						default: '',
						placeholder: 'completed, rejected',
						description:
							'Comma-separated task states that start the workflow; others are answered 200 and ignored. Empty: every state.',
					},
					{
						displayName: 'Redelivery Window (Hours)',
						name: 'redeliveryWindowHours',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 24,
						description: 'How long a task and state are remembered to recognise a redelivery',
					},
					...signatureOptionProperties,
				],
			},
		],
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const options = this.getNodeParameter('options', {}) as TriggerOptions;
		const callback = await receiveCallback(this, options);
		if (!callback.accepted) return { noWebhookResponse: true };

		const { payload } = callback;
		const states = (options.states ?? '')
			.split(',')
			.map((state) => state.trim())
			.filter(Boolean);
		if (states.length > 0 && !states.includes(String(payload.state))) {
			return { webhookResponse: { received: true, ignored: 'state not selected' } };
		}
		if (options.ignoreRedeliveries ?? true) {
			const filter = new RedeliveryFilter(this.getWorkflowStaticData('node'), (options.redeliveryWindowHours ?? 24) * 3_600_000);
			if (!filter.isFirstDelivery(payload)) {
				return { webhookResponse: { received: true, ignored: 'redelivery' } };
			}
		}
		return { workflowData: [[{ json: payload as IDataObject }]], webhookResponse: { received: true } };
	}
}
