import { Module, type OnModuleInit } from '@nestjs/common';
import { AuditRecorder, AuditTagRegistry } from '../../src/plugin-api/index.js';
import { AuditCheckpoints } from './audit.checkpoints.js';
import { AuditController } from './audit.controller.js';
import { AuditHooks } from './audit.hooks.js';
import { AuditRenderer } from './audit.renderer.js';
import { AuditRetention } from './audit.retention.js';
import { AuditSigner } from './audit.signer.js';
import { AuditSubscriber } from './audit.subscriber.js';
import { AuditVerifier } from './audit.verifier.js';
import { AuditWriter } from './audit.writer.js';
import { CORE_CATALOGUE } from './catalogue.js';

@Module({
  controllers: [AuditController],
  providers: [
    AuditWriter,
    AuditSubscriber,
    AuditHooks,
    AuditRenderer,
    AuditSigner,
    AuditCheckpoints,
    AuditVerifier,
    AuditRetention,
  ],
  exports: [
    AuditWriter,
    AuditRenderer,
    AuditSigner,
    AuditCheckpoints,
    AuditVerifier,
    AuditRetention,
  ],
})
export class AuditModule implements OnModuleInit {
  constructor(
    private readonly tags: AuditTagRegistry,
    private readonly recorder: AuditRecorder,
    private readonly writer: AuditWriter,
  ) {}

  /** Registers the core catalogue and becomes the store behind every plugin's `recordAudit`. */
  onModuleInit(): void {
    for (const definition of CORE_CATALOGUE) this.tags.register(definition, 'core');
    this.recorder.implement(this.writer);
  }
}
