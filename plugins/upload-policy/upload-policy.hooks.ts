import { Injectable } from '@nestjs/common';
import { HookVeto, OnHook, type HookEvent } from '../../src/plugin-api/index.js';
import { UploadPolicyOptions } from './upload-policy.options.js';
import { UploadRules } from './upload-rules.js';

@Injectable()
export class UploadPolicyHooks {
  private readonly rules: UploadRules;

  constructor(options: UploadPolicyOptions) {
    this.rules = new UploadRules(options);
  }

  /** Before the bytes are accepted: a refusal reaches twine as a 400 with this message. */
  @OnHook('file.uploading', { phase: 'before' })
  check(event: HookEvent<'file.uploading'>): void {
    const actor = event.actor;
    const reason = this.rules.check({
      projectName: event.project?.name ?? event.projectName,
      filename: event.file.filename,
      size: event.file.size,
      username: actor.kind === 'user' || actor.kind === 'token' ? actor.username : null,
    });
    if (reason) throw new HookVeto(reason);
  }
}
