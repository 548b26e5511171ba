import {
	NodeApiError,
	NodeOperationError,
	type IBinaryKeyData,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type JsonObject,
} from 'n8n-workflow';

import { OversightRequestError } from './oversight/errors';

/** What one item produced; runItems makes the output item and links it to its input. */
export interface ItemResult {
	result: IDataObject;
	binary?: IBinaryKeyData;
}

export interface ItemSteps<Prepared> {
	/** Reads and checks one item's parameters; no network call may happen here. */
	prepare(itemIndex: number): Promise<Prepared>;
	/** Does the item's network work. */
	send(prepared: Prepared, itemIndex: number): Promise<ItemResult>;
}

/** How to run a node's items: the node-wide settings and the steps for each item. */
export interface NodeRun<Prepared> extends ItemSteps<Prepared> {
	concurrency: number;
}

/**
 * Sets the node up (credential, node-wide options), then runs its items. A setup failure concerns
 * every item: under continueOnFail each input item becomes an error item, instead of n8n passing
 * the input on unprocessed as if it had succeeded.
 */
export async function runNode<Prepared>(
	ctx: IExecuteFunctions,
	setup: () => Promise<NodeRun<Prepared>>,
): Promise<INodeExecutionData[]> {
	let run: NodeRun<Prepared>;
	try {
		run = await setup();
	} catch (error) {
		return ctx.getInputData().map((_, itemIndex) => failedItem(ctx, error, itemIndex));
	}
	return runItems(ctx, run.concurrency, run);
}

/**
 * Runs every input item in two passes: all items are checked first, so that bad input stops the
 * node before anything is sent to CloudFactory; then the checked items are sent with at most
 * `concurrency` at a time. Output order is input order and every item keeps its pairedItem.
 */
async function runItems<Prepared>(
	ctx: IExecuteFunctions,
	concurrency: number,
	steps: ItemSteps<Prepared>,
): Promise<INodeExecutionData[]> {
	const itemCount = ctx.getInputData().length;
	const results: INodeExecutionData[] = new Array(itemCount);
	const ready: Array<{ itemIndex: number; prepared: Prepared }> = [];

	for (let itemIndex = 0; itemIndex < itemCount; itemIndex++) {
		try {
			ready.push({ itemIndex, prepared: await steps.prepare(itemIndex) });
		} catch (error) {
			results[itemIndex] = failedItem(ctx, error, itemIndex);
		}
	}

	let next = 0;
	let stopError: Error | undefined;
	const worker = async () => {
		while (next < ready.length && stopError === undefined) {
			const { itemIndex, prepared } = ready[next++];
			try {
				const { result, binary } = await steps.send(prepared, itemIndex);
				results[itemIndex] = { json: result, ...(binary && { binary }), pairedItem: { item: itemIndex } };
			} catch (error) {
				try {
					results[itemIndex] = failedItem(ctx, error, itemIndex);
				} catch (nodeError) {
					// Without continueOnFail the node stops: items already in flight finish first,
					// so no request is abandoned half-way.
					stopError ??= nodeError as Error;
				}
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, ready.length) }, worker));
	if (stopError) throw stopError;
	return results;
}

/** The error item n8n expects under continueOnFail; otherwise the error to stop the node with. */
function failedItem(ctx: IExecuteFunctions, error: unknown, itemIndex: number): INodeExecutionData {
	const nodeError = toNodeError(ctx, error, itemIndex);
	if (!ctx.continueOnFail()) throw nodeError;
	const json: JsonObject = { error: nodeError.message };
	if (nodeError.description) json.description = nodeError.description;
	if (nodeError instanceof NodeApiError && nodeError.httpCode) json.httpCode = nodeError.httpCode;
	return { json, pairedItem: { item: itemIndex } };
}

export function toNodeError(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		error.context.itemIndex ??= itemIndex;
		return error;
	}
	if (error instanceof OversightRequestError) {
		const { status, body, apiMessage, networkErrorCode } = error.details;
		const response: JsonObject = { status: status ?? null, message: apiMessage ?? null };
		// Not under "code": NodeApiError would swap our message for its generic one for that code.
		if (networkErrorCode) response.networkError = networkErrorCode;
		if (body && typeof body === 'object') response.body = body as JsonObject;
		return new NodeApiError(ctx.getNode(), response, {
			message: `Item ${itemIndex}: ${error.message}`,
			description: error.hint,
			httpCode: status === undefined ? undefined : String(status),
			itemIndex,
		});
	}
	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(ctx.getNode(), `Item ${itemIndex}: ${message}`, { itemIndex });
}
