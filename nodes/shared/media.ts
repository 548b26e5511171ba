/**
 * Decision D3 (shared/oversight-api.md): Oversight reviews images and videos only; the media type
 * follows from the MIME type unless the user names it.
 */

export type MediaType = 'image' | 'video';

export const MEDIA_TYPES: readonly MediaType[] = ['image', 'video'];

const GENERIC_MIME_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/**
 * The user's override, else the binary's own MIME type, else what the file name says. A generic
 * "octet-stream" says nothing, so the file name decides then.
 */
export async function resolveContentType(params: {
	override?: string;
	binaryMimeType?: string;
	fileName?: string;
}): Promise<string | undefined> {
	const override = params.override?.trim();
	if (override) return override;
	const fromBinary = params.binaryMimeType?.split(';')[0].trim().toLowerCase() ?? '';
	if (!GENERIC_MIME_TYPES.has(fromBinary)) return fromBinary;
	if (!params.fileName) return undefined;
	// Loaded here rather than with the node: its MIME database costs about 25 ms to load.
	const { lookup } = await import('mime-types');
	const fromName = lookup(params.fileName);
	return fromName || undefined;
}

export function isMediaType(value: unknown): value is MediaType {
	return typeof value === 'string' && (MEDIA_TYPES as readonly string[]).includes(value);
}

export function mediaTypeOf(contentType: string): MediaType | undefined {
	const [major] = contentType.toLowerCase().split('/');
	return isMediaType(major) ? major : undefined;
}
