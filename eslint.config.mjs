// The rules of @n8n/node-cli's lint config for community nodes (its "without n8n Cloud support"
// variant: this package targets self-hosted n8n), assembled here because installing @n8n/node-cli
// itself drags in Node 24-only packages and a pnpm-only install script.
import js from '@eslint/js';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import tseslint from 'typescript-eslint';

const recommended = n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport;

export default tseslint.config(
	{ ignores: ['dist/**', 'build/**', 'node_modules/**', '.cache/**'] },
	{
		files: ['**/*.ts'],
		extends: [js.configs.recommended, ...tseslint.configs.recommended],
		rules: { 'prefer-spread': 'off', 'no-console': 'error' },
	},
	{
		// The community-node rules judge what ships; the tests, the emulator and the harness do not.
		files: ['nodes/**/*.ts', 'credentials/**/*.ts'],
		extends: [recommended],
		rules: {
			// Verified (n8n Cloud) nodes may not have runtime dependencies. This package depends on
			// undici (streaming uploads, keep-alive pools, proxy support) and mime-types by design,
			// so it targets self-hosted n8n and leaves this rule off.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
	{
		// The API helper throws its own OversightRequestError, which keeps the status, the API's
		// message and whether a task may exist; itemRunner.toNodeError turns it into a NodeApiError
		// at the node boundary.
		files: ['nodes/shared/oversight/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		files: ['package.json'],
		extends: [recommended],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.community.rules,
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
	},
	{
		files: ['credentials/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
			'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
		},
	},
	{
		files: ['test/**/*.ts', 'bench/**/*.ts'],
		rules: { 'no-console': 'off' },
	},
);
