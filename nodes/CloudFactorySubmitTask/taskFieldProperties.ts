import type { INodeProperties } from 'n8n-workflow';

import { signatureOptionProperties } from '../shared/callbackReceiver';

const inBucketMode = { show: { mediaSource: ['bucket'] } };

/** Media Type value that takes the item's media_type, as CloudFactory Upload Media outputs it. */
export const FROM_UPLOAD = 'fromUpload';

export const taskFieldProperties: INodeProperties[] = [
	{
		displayName: 'Media Source',
		name: 'mediaSource',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Uploaded Media',
				value: 'upload',
				description: 'A file sent with CloudFactory Upload Media (images and videos)',
			},
			{
				name: 'Mounted Bucket',
				value: 'bucket',
				description: 'An image in your own cloud bucket that CloudFactory has mounted (images only)',
			},
		],
		default: 'upload',
	},
	{
		displayName: 'Media Key',
		name: 'mediaKey',
		type: 'string',
		required: true,
		default: '={{ $json.media_key }}',
		description:
			'The media_key that CloudFactory Upload Media output, or for a mounted bucket the path of the image inside the bucket',
	},
	{
		displayName: 'Bucket ID',
		name: 'bucketId',
		type: 'string',
		required: true,
		default: '',
		displayOptions: inBucketMode,
		description: 'The bucket credential ID CloudFactory gave you when the bucket was mounted',
	},
	{
		displayName: 'Media Type',
		name: 'mediaType',
		type: 'options',
		displayOptions: { show: { mediaSource: ['upload'] } },
		options: [
			{
				name: 'From Upload Media',
				value: 'fromUpload',
				description: 'The media_type that CloudFactory Upload Media put in the item',
			},
			{ name: 'Image', value: 'image' },
			{ name: 'Video', value: 'video' },
		],
		default: 'fromUpload',
	},
	{
		displayName: 'Media Type',
		name: 'mediaType',
		type: 'options',
		displayOptions: inBucketMode,
		options: [
			{ name: 'Image', value: 'image' },
			{ name: 'Video', value: 'video' },
		],
		default: 'image',
		description: 'Mounted buckets hold images only: upload videos with CloudFactory Upload Media',
	},
	{
		displayName: 'Wait for Review',
		name: 'waitForReview',
		type: 'boolean',
		default: false,
		description:
			'Whether to pause this execution until CloudFactory calls back with the reviewed task, then continue with the callback as output. One item per execution.',
	},
	{
		displayName:
			'The execution waits for CloudFactory\'s signed callback at this execution\'s resume URL (n8n must be reachable from the internet: set WEBHOOK_URL). If Max Wait passes first, the next node receives this node\'s input item unchanged, without task_id or state.',
		name: 'waitNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { waitForReview: [true] } },
	},
	{
		displayName: 'Wait Options',
		name: 'waitOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { waitForReview: [true] } },
		options: [
			{
				displayName: 'Max Wait (Hours)',
				name: 'maxWaitHours',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 72,
				description: 'How long to wait for the review before the workflow goes on without it. 0 waits indefinitely.',
			},
			{
				displayName: 'Allow Unreachable Resume URL',
				name: 'allowUnreachableResumeUrl',
				type: 'boolean',
				default: false,
				description:
					'Whether to create the task even though n8n\'s resume URL is localhost or a private address, which CloudFactory cannot call (for local tests, or when a tunnel forwards it)',
			},
			...signatureOptionProperties,
		],
	},
	{
		displayName: 'Callback URL',
		name: 'callbackUrl',
		type: 'string',
		default: '',
		displayOptions: { show: { waitForReview: [false] } },
		placeholder: 'https://n8n.example.com/webhook/…/webhook',
		description:
			"Where CloudFactory posts the reviewed result. Use the Production URL of a CloudFactory Oversight Trigger node (not its Test URL).",
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			{
				displayName: 'Context Metadata',
				name: 'contextMetadata',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				default: {},
				description: 'Key/value pairs shown to reviewers and sent back with the result; values are sent as text',
				options: [
					{
						displayName: 'Entry',
						name: 'entry',
						values: [
							{ displayName: 'Key', name: 'key', type: 'string', default: '' },
							{ displayName: 'Value', name: 'value', type: 'string', default: '' },
						],
					},
				],
			},
			{
				displayName: 'Extra Body Fields (JSON)',
				name: 'extraBody',
				type: 'json',
				default: '{}',
				description:
					'A JSON object merged into the request body last, for fields CloudFactory supports that this node does not show',
			},
			{
				displayName: 'Model Inferences (JSON)',
				name: 'inferences',
				type: 'json',
				default: '[]',
				description:
					'A JSON array of your model\'s inferences (external_id, classes, bbox, mask, polygon) for reviewers to correct',
			},
			{
				displayName: 'Model Metadata (JSON)',
				name: 'modelMetadata',
				type: 'json',
				default: '{}',
				description: 'A JSON object describing the model that made the inferences, for example {"name": "detector", "version": "3"}',
			},
			{
				displayName: 'Tags',
				name: 'tags',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				default: {},
				description: 'Tags your model predicted, each with a confidence from 0 to 1',
				options: [
					{
						displayName: 'Tag',
						name: 'tag',
						values: [
							{ displayName: 'Value', name: 'value', type: 'string', default: '' },
							{
								displayName: 'Confidence Score',
								name: 'confidenceScore',
								type: 'number',
								typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 4 },
								default: 1,
							},
						],
					},
				],
			},
		],
	},
];
