import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export const CLOUDFACTORY_CREDENTIAL_TYPE = 'cloudFactoryApi';
export const API_KEY_HEADER = 'x-api-key';
export const DEFAULT_BASE_URL = 'https://api.cloudfactory.app';

export class CloudFactoryApi implements ICredentialType {
	name = CLOUDFACTORY_CREDENTIAL_TYPE;

	displayName = 'CloudFactory API';

	icon: Icon = { light: 'file:../icons/cloudfactory.svg', dark: 'file:../icons/cloudfactory.dark.svg' };

	documentationUrl = 'https://developer.cloudfactory.com/getting-started/authentication';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'The Oversight API key that CloudFactory support issued for your workstream',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: DEFAULT_BASE_URL,
			description:
				'Where the Oversight API lives. Keep the default unless CloudFactory gave you another address or you are testing against the local emulator.',
		},
		{
			displayName: 'Webhook Signing Secret',
			name: 'webhookSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'The secret CloudFactory signs task callbacks with (X-CF-Signature). Needed to accept callbacks in the Oversight Trigger and in Submit Task when it waits for the review.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				[API_KEY_HEADER]: '={{$credentials.apiKey}}',
			},
		},
	};

	// GET /v1/tasks is the request CloudFactory's authentication guide uses to show the key at work:
	// it reads only, so testing a credential never creates a task.
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '/v1/tasks',
			method: 'GET',
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message: 'CloudFactory refused the API key (401). Check the key, or ask CloudFactory support for a new one.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message: 'CloudFactory accepted the API key but denied access (403). Ask CloudFactory support which workstream the key belongs to.',
				},
			},
		],
	};
}
