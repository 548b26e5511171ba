import type { IExecuteFunctions } from 'n8n-workflow';

import { isMediaType, MEDIA_TYPES } from '../shared/media';
import type { JsonObject } from '../shared/oversight/client';
import { describeType, ItemParameters } from '../shared/parameters';
import type { TaskFields } from '../shared/taskBody';
import { FROM_UPLOAD } from './taskFieldProperties';
import { isHttpUrl } from '../shared/urls';

/** One item's Submit Task parameters, checked; throws an error naming the item and the field. */
export function readTaskFields(ctx: IExecuteFunctions, itemIndex: number): TaskFields {
	const params = new ItemParameters(ctx, itemIndex);
	const fromBucket = params.raw('mediaSource', 'upload') === 'bucket';

	const configurationId = params.requiredText('configurationId', 'Configuration ID');
	const mediaKey = params.requiredText(
		'mediaKey',
		'Media Key',
		fromBucket ? 'Give the path of the image inside the mounted bucket.' : 'Connect CloudFactory Upload Media before this node, or give a media_key it output.',
	);
	const bucketId = fromBucket ? params.requiredText('bucketId', 'Bucket ID') : undefined;

	const chosen = params.optionalText('mediaType', 'Media Type') ?? FROM_UPLOAD;
	const mediaType = chosen === FROM_UPLOAD ? ctx.getInputData()[itemIndex].json.media_type : chosen;
	if (!isMediaType(mediaType)) {
		throw params.invalid(
			'Media Type',
			chosen === FROM_UPLOAD
				? `is "From Upload Media", but the item's media_type is ${JSON.stringify(mediaType) ?? 'missing'}`
				: `must be one of ${MEDIA_TYPES.join(', ')}, not "${chosen}"`,
			chosen === FROM_UPLOAD ? 'Put CloudFactory Upload Media before this node, or choose Image or Video.' : undefined,
		);
	}
	if (fromBucket && mediaType !== 'image') {
		throw params.invalid(
			'Media Type',
			'is video, but mounted buckets hold images only',
			'Upload videos with CloudFactory Upload Media and choose Media Source: Uploaded Media.',
		);
	}

	const callbackUrl = params.optionalText('callbackUrl', 'Callback URL');
	if (callbackUrl !== undefined && !isHttpUrl(callbackUrl)) {
		throw params.invalid('Callback URL', `must be an http(s) URL, not "${callbackUrl}"`);
	}

	const inferences = params.optionalJson('additionalFields.inferences', 'Model Inferences (JSON)', 'array') as
		| unknown[]
		| undefined;
	const modelMetadata = params.optionalJson('additionalFields.modelMetadata', 'Model Metadata (JSON)', 'object') as
		| JsonObject
		| undefined;
	const extraBody = params.optionalJson('additionalFields.extraBody', 'Extra Body Fields (JSON)', 'object') as
		| JsonObject
		| undefined;

	return {
		configurationId,
		mediaKey,
		mediaType,
		bucketId,
		callbackUrl,
		tags: readTags(params),
		contextMetadata: readContextMetadata(params),
		modelMetadata: modelMetadata && Object.keys(modelMetadata).length > 0 ? modelMetadata : undefined,
		inferences: inferences && inferences.length > 0 ? inferences : undefined,
		extraBody,
	};
}

function readTags(params: ItemParameters): TaskFields['tags'] {
	const rows = params.raw('additionalFields.tags.tag', []) as Array<{ value?: unknown; confidenceScore?: unknown }>;
	return rows.map((row, position) => {
		const field = `Tags > Tag ${position + 1}`;
		if (typeof row.value !== 'string' || row.value.trim() === '') {
			throw params.invalid(field, 'has an empty Value');
		}
		const score = typeof row.confidenceScore === 'string' && row.confidenceScore.trim() !== '' ? Number(row.confidenceScore) : row.confidenceScore;
		if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) {
			throw params.invalid(field, `has Confidence Score ${JSON.stringify(row.confidenceScore)}, which is not a number from 0 to 1`);
		}
		return { value: row.value.trim(), confidence_score: score };
	});
}

/** D4: context metadata values are strings; numbers and booleans are written as text. */
function readContextMetadata(params: ItemParameters): TaskFields['contextMetadata'] {
	const rows = params.raw('additionalFields.contextMetadata.entry', []) as Array<{ key?: unknown; value?: unknown }>;
	return rows.map((row, position) => {
		const field = `Context Metadata > Entry ${position + 1}`;
		if (typeof row.key !== 'string' || row.key.trim() === '') {
			throw params.invalid(field, 'has an empty Key');
		}
		const { value } = row;
		if (typeof value === 'number' || typeof value === 'boolean') return { key: row.key.trim(), value: String(value) };
		if (typeof value !== 'string') {
			throw params.invalid(field, `has a Value that is ${describeType(value)}; context metadata values must be text`);
		}
		return { key: row.key.trim(), value };
	});
}
