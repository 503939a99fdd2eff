import { definePlugin } from '../../src/plugin-api/index.js';
import { UploadPolicyModule } from './upload-policy.module.js';
import { UploadPolicyOptions } from './upload-policy.options.js';

/**
 * Refuses uploads by rule: a maximum file size (per project), allowed filename patterns, and
 * project-name prefixes reserved to named users. See docs/plugins.md for the options.
 */
export default definePlugin({
  name: 'upload-policy',
  version: '1.0.0',
  api: '^1.0.0',
  description: 'Refuse uploads by size, filename pattern or reserved name prefix',
  module: UploadPolicyModule,
  options: UploadPolicyOptions,
});
