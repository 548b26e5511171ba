import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import { itemFile, type ItemFile } from '../shared/binaryInput';
import { connect } from '../shared/connection';
import { configurationIdProperty, actionNodeBasics, optionsCollection } from '../shared/descriptions';
import { runNode } from '../shared/itemRunner';
import { isMediaType, MEDIA_TYPES, mediaTypeOf, resolveContentType, type MediaType } from '../shared/media';
import { ItemParameters } from '../shared/parameters';

interface PreparedUpload {
	configurationId: string;
	file: ItemFile;
	fileName: string;
	contentType: string;
	mediaType: MediaType;
}

export class CloudFactoryUploadMedia implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'CloudFactory Upload Media',
		name: 'cloudFactoryUploadMedia',
		icon: { light: 'file:../../icons/cloudfactory.svg', dark: 'file:../../icons/cloudfactory.dark.svg' },
		...actionNodeBasics,
		subtitle: '={{"Upload " + $parameter["binaryPropertyName"]}}',
		description: 'Upload an image or video to CloudFactory Oversight and get its media key',
		defaults: { name: 'CloudFactory Upload Media' },
		usableAsTool: true,
		properties: [
			configurationIdProperty,
			{
				displayName: 'Input Binary Field',
				name: 'binaryPropertyName',
				type: 'string',
				required: true,
				default: 'data',
				hint: 'The name of the input binary field holding the image or video',
			},
			optionsCollection([
				{
					displayName: 'File Name',
					name: 'fileName',
					type: 'string',
					default: '',
					description: "Name to give the file at CloudFactory instead of the binary's own file name",
				},
				{
					displayName: 'Content Type',
					name: 'contentType',
					type: 'string',
					default: '',
					placeholder: 'video/mp4',
					description: "MIME type to send instead of the binary's own (or the one its file name suggests)",
				},
				{
					displayName: 'Media Type',
					name: 'mediaType',
					type: 'options',
					options: [
						{ name: 'From Content Type', value: 'auto' },
						{ name: 'Image', value: 'image' },
						{ name: 'Video', value: 'video' },
					],
					default: 'auto',
					description: 'Image or video. By default it follows the content type (image/… or video/…).',
				},
			]),
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const output = await runNode<PreparedUpload>(this, async () => {
			const { client, concurrency } = await connect(this);
			return {
				concurrency,
				prepare: async (itemIndex) => {
					const params = new ItemParameters(this, itemIndex);
					const configurationId = params.requiredText('configurationId', 'Configuration ID');
					const propertyName = params.requiredText('binaryPropertyName', 'Input Binary Field');
					const file = await itemFile(this, params, propertyName, 'Input Binary Field');
					const fileName = params.optionalText('options.fileName', 'File Name') ?? file.fileName ?? propertyName;

					const contentType = await resolveContentType({
						override: params.optionalText('options.contentType', 'Content Type'),
						binaryMimeType: file.mimeType,
						fileName,
					});
					if (!contentType || !/^[\w.+-]+\/[\w.+-]+$/.test(contentType)) {
						throw params.invalid(
							'Content Type',
							contentType ? `"${contentType}" is not a MIME type` : `cannot be told for "${fileName}"`,
							'Set Options > Content Type, for example image/jpeg or video/mp4.',
						);
					}

					const requested = params.optionalText('options.mediaType', 'Media Type') ?? 'auto';
					const mediaType = requested === 'auto' ? mediaTypeOf(contentType) : requested;
					if (!isMediaType(mediaType)) {
						throw params.invalid(
							'Media Type',
							requested === 'auto'
								? `cannot be told from content type "${contentType}": CloudFactory reviews images and videos only`
								: `must be one of ${MEDIA_TYPES.join(', ')}, not "${requested}"`,
						);
					}
					return { configurationId, file, fileName, contentType, mediaType };
				},

				send: async (upload, itemIndex) => {
					const { media_upload_url: uploadUrl, ...ticket } = await client.requestUploadUrl({
						configuration_id: upload.configurationId,
						file_name: upload.fileName,
						content_type: upload.contentType,
					});
					await client.uploadMedia(uploadUrl, {
						size: upload.file.size,
						contentType: upload.contentType,
						open: upload.file.open,
					});
					return {
						result: {
							...ticket,
							configuration_id: upload.configurationId,
							media_type: upload.mediaType,
							content_type: upload.contentType,
							file_name: upload.fileName,
							file_size: upload.file.size,
						},
						binary: this.getInputData()[itemIndex].binary,
					};
				},
			};
		});
		return [output];
	}
}
