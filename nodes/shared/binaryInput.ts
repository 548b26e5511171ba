import { BINARY_ENCODING, type IExecuteFunctions } from 'n8n-workflow';

import type { MediaBody } from './oversight/client';
import type { ItemParameters } from './parameters';

/**
 * Read size for files n8n keeps on disk. n8n's default of 64 KiB halved upload throughput against
 * 1 MiB (bench/RESULTS.md); larger reads gained little more. Each upload in flight holds about two
 * such chunks.
 */
const UPLOAD_READ_CHUNK_BYTES = 1024 * 1024;

export interface ItemFile {
	fileName?: string;
	mimeType?: string;
	size: number;
	open: MediaBody['open'];
}

/**
 * An item's binary file, read the way n8n stores it: a stream from disk (or S3, or the database)
 * when the binary has an id, so that memory does not grow with the file; a Buffer only in the
 * legacy in-memory mode, where n8n already holds the whole file.
 */
export async function itemFile(
	ctx: IExecuteFunctions,
	params: ItemParameters,
	propertyName: string,
	field: string,
): Promise<ItemFile> {
	const binaries = ctx.getInputData()[params.itemIndex].binary ?? {};
	if (!binaries[propertyName]) {
		const present = Object.keys(binaries);
		throw params.invalid(
			field,
			`names the binary property "${propertyName}", but the item has ${present.length ? `only ${present.map((name) => `"${name}"`).join(', ')}` : 'no binary data'}`,
			'Set Input Binary Field to the name under which the previous node put the file (often "data").',
		);
	}
	const binary = ctx.helpers.assertBinaryData(params.itemIndex, propertyName);

	let file: ItemFile;
	if (binary.id) {
		const id = binary.id;
		const metadata = await ctx.helpers.getBinaryMetadata(id);
		file = {
			fileName: binary.fileName ?? metadata.fileName,
			mimeType: binary.mimeType || metadata.mimeType,
			size: metadata.fileSize,
			open: () => ctx.helpers.getBinaryStream(id, UPLOAD_READ_CHUNK_BYTES),
		};
	} else {
		const bytes = Buffer.from(binary.data, BINARY_ENCODING);
		file = { fileName: binary.fileName, mimeType: binary.mimeType, size: bytes.length, open: async () => bytes };
	}
	if (!(file.size > 0)) throw params.invalid(field, `holds an empty file ("${file.fileName ?? propertyName}")`);
	return file;
}
