import { randomUUID } from 'node:crypto';

import type { Knobs } from './faults';
import { json, message, type Reply } from './replies';
import { taskStatus, type Reviewer, type TaskRecord } from './review';
import type { IssuedMedia, UploadRecord, UrlSigner } from './uploadHost';

export interface Store {
	media: Map<string, IssuedMedia>;
	uploads: Map<string, UploadRecord>;
	tasks: Map<string, TaskRecord>;
	/** (configuration_id, media_key, bucket_id) of every task so far, to count duplicates. */
	taskKeys: Set<string>;
	duplicates: number;
}

export interface ApiContext {
	store: Store;
	signer: UrlSigner;
	reviewer: Reviewer;
	knobs: Knobs;
	uploadOrigin: string;
	/** When set, only these configurations exist; otherwise any is accepted. */
	configurationIds: readonly string[] | undefined;
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
	typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** type/subtype with optional parameters, in RFC 9110 token characters. */
const MIME_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;.*)?$/;

const badRequest = (text: string): Reply => message(400, text);

function missingText(body: Fields, fields: string[]): Reply | undefined {
	const field = fields.find((name) => !isText(body[name]));
	return field === undefined ? undefined : badRequest(`${field} is required and must be a non-empty string`);
}

function unknownConfiguration(ctx: ApiContext, configurationId: string): Reply | undefined {
	if (ctx.configurationIds === undefined || ctx.configurationIds.includes(configurationId)) return undefined;
	return badRequest('configuration_id is not a configuration known for this API key');
}

/** D1. */
export function requestUpload(ctx: ApiContext, body: unknown): Reply {
	if (!isObject(body)) return badRequest('Request body must be a JSON object');
	const missing = missingText(body, ['configuration_id', 'file_name', 'content_type']);
	if (missing) return missing;
	const { configuration_id, file_name, content_type } = body as Record<string, string>;
	if (!MIME_TYPE.test(content_type)) return badRequest('content_type must be a MIME type such as image/jpeg');
	// A URL parser resolves these as path segments, which would move the object.
	if (file_name === '.' || file_name === '..') return badRequest('file_name must name a file');
	const unknown = unknownConfiguration(ctx, configuration_id);
	if (unknown) return unknown;

	const ticket = ctx.signer.issue(ctx.uploadOrigin, file_name, content_type, ctx.knobs.uploadUrlTtlSeconds);
	ctx.store.media.set(ticket.media_key, {
		mediaKey: ticket.media_key,
		configurationId: configuration_id,
		contentType: content_type,
		uploaded: false,
	});
	return json(200, ticket);
}

function isHttpUrl(value: unknown): boolean {
	if (typeof value !== 'string') return false;
	try {
		const { protocol } = new URL(value);
		return protocol === 'http:' || protocol === 'https:';
	} catch {
		return false;
	}
}

/** The first problem in the optional fields of D4, if any. */
function optionalFieldProblem(body: Fields): string | undefined {
	const { media_type, bucket_id, callback_url, tags, context_metadata, model_metadata, inferences } = body;
	if (media_type !== undefined && media_type !== 'image' && media_type !== 'video') {
		return 'media_type must be image or video';
	}
	if (bucket_id !== undefined && !isText(bucket_id)) return 'bucket_id must be a non-empty string';
	if (callback_url !== undefined && !isHttpUrl(callback_url)) return 'callback_url must be an http(s) URL';
	if (tags !== undefined) {
		if (!Array.isArray(tags)) return 'tags must be an array';
		for (const [index, tag] of tags.entries()) {
			if (!isObject(tag) || typeof tag.value !== 'string') return `tags[${index}].value must be a string`;
			const score = tag.confidence_score;
			if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
				return `tags[${index}].confidence_score must be a number between 0 and 1`;
			}
		}
	}
	if (context_metadata !== undefined) {
		if (!Array.isArray(context_metadata)) return 'context_metadata must be an array';
		for (const [index, entry] of context_metadata.entries()) {
			if (!isObject(entry) || typeof entry.key !== 'string' || typeof entry.value !== 'string') {
				return `context_metadata[${index}] must be {key: string, value: string}`;
			}
		}
	}
	if (model_metadata !== undefined && !isObject(model_metadata)) return 'model_metadata must be an object';
	if (inferences !== undefined && !Array.isArray(inferences)) return 'inferences must be an array';
	return undefined;
}

/** Without a mounted bucket, the media must come from this emulator's D1 + D2 for the same configuration. */
function mediaProblem(ctx: ApiContext, body: Fields): string | undefined {
	if (body.bucket_id !== undefined) {
		return body.media_type === 'video' ? 'Mounted buckets support images only: media_type must be image' : undefined;
	}
	const media = ctx.store.media.get(body.media_key as string);
	if (!media) return 'media_key was not issued by Upload Media';
	if (media.configurationId !== body.configuration_id) {
		return 'media_key was issued for another configuration_id';
	}
	if (!media.uploaded) return 'media_key has no uploaded file yet';
	return undefined;
}

/** D4. */
export function submitTask(ctx: ApiContext, body: unknown): Reply {
	if (!isObject(body)) return badRequest('Request body must be a JSON object');
	const missing = missingText(body, ['configuration_id', 'media_key']);
	if (missing) return missing;
	const problem = optionalFieldProblem(body);
	if (problem) return badRequest(problem);
	const unknown = unknownConfiguration(ctx, body.configuration_id as string);
	if (unknown) return unknown;
	const media = mediaProblem(ctx, body);
	if (media) return badRequest(media);

	const { store } = ctx;
	const key = JSON.stringify([body.configuration_id, body.media_key, body.bucket_id ?? null]);
	if (store.taskKeys.has(key)) store.duplicates++;
	store.taskKeys.add(key);

	const task: TaskRecord = {
		id: randomUUID(),
		body,
		state: 'pending',
		createdAt: Date.now(),
		completedAt: null,
		updatedInferences: null,
	};
	store.tasks.set(task.id, task);
	ctx.reviewer.schedule(task, ctx.knobs.reviewDelayMs);
	return json(200, { task_id: task.id });
}

/** D5; `rawId` is the path segment as sent, still percent-encoded. */
export function getTask(ctx: ApiContext, rawId: string): Reply {
	let id: string;
	try {
		id = decodeURIComponent(rawId);
	} catch {
		return message(404, 'Task not found');
	}
	const task = ctx.store.tasks.get(id);
	return task ? json(200, taskStatus(task)) : message(404, 'Task not found');
}

/** The request of the docs' authentication example, which the credential test sends. */
export function listTasks(ctx: ApiContext): Reply {
	return json(200, { tasks: [...ctx.store.tasks.keys()] });
}
