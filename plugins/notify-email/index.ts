import { definePlugin } from '../../src/plugin-api/index.js';
import { NotifyEmailModule } from './notify-email.module.js';
import { NotifyEmailOptions } from './notify-email.options.js';

/**
 * E-mails account holders after the actions PyPI e-mails for (password, two-factor, e-mail,
 * project membership, removals, yanks) and after API token creation.
 */
export default definePlugin({
  name: 'notify-email',
  version: '1.0.0',
  api: '^1.0.0',
  description: 'E-mail account holders about sensitive changes to their account and projects',
  module: NotifyEmailModule,
  options: NotifyEmailOptions,
  auditTags: [
    {
      tag: 'notify:email:sent',
      showsIn: ['account'],
      additional: ['to', 'subject', 'hook'],
      description: 'Notification e-mailed to {to}: {subject}',
    },
  ],
});
