import type { JsonObject } from './oversight/client';
import type { MediaType } from './media';

/**
 * Decision D4 (shared/oversight-api.md): the body of POST /v1/tasks. The documented fields, model
 * inferences only when given, and the user's extra JSON merged last so that fields the public docs
 * do not show can still be sent.
 */
export interface TaskFields {
	configurationId: string;
	mediaKey: string;
	mediaType: MediaType;
	bucketId?: string;
	callbackUrl?: string;
	tags: Array<{ value: string; confidence_score: number }>;
	contextMetadata: Array<{ key: string; value: string }>;
	modelMetadata?: JsonObject;
	inferences?: unknown[];
	extraBody?: JsonObject;
}

export function buildTaskBody(fields: TaskFields): JsonObject {
	const body: JsonObject = {
		configuration_id: fields.configurationId,
		media_key: fields.mediaKey,
		media_type: fields.mediaType,
	};
	if (fields.bucketId !== undefined) body.bucket_id = fields.bucketId;
	if (fields.callbackUrl !== undefined) body.callback_url = fields.callbackUrl;
	if (fields.tags.length > 0) body.tags = fields.tags;
	if (fields.contextMetadata.length > 0) body.context_metadata = fields.contextMetadata;
	if (fields.modelMetadata !== undefined) body.model_metadata = fields.modelMetadata;
	if (fields.inferences !== undefined) body.inferences = fields.inferences;
	return { ...body, ...fields.extraBody };
}
