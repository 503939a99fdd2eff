import { Inject, Module, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  AuditRecorder,
  AuditTagRegistry,
  LOGGER,
  type Logger,
} from '../../src/plugin-api/index.js';
import { AuditCheckpoints } from './audit.checkpoints.js';
import { AuditApiController } from './api/audit-api.controller.js';
import { AuditController } from './audit.controller.js';
import { AuditHooks } from './audit.hooks.js';
import { AuditRenderer } from './audit.renderer.js';
import { AuditRetention } from './audit.retention.js';
import { AuditSearch } from './audit.search.js';
import { AuditSigner } from './audit.signer.js';
import { AuditSubscriber } from './audit.subscriber.js';
import { AuditVerifier } from './audit.verifier.js';
import { AuditWriter } from './audit.writer.js';
import { CORE_CATALOGUE } from './catalogue.js';
import { AuditExporter } from './export/audit-exporter.js';
import { AuditStreamService } from './streams/stream.service.js';
import { AuditStreamWorker } from './streams/stream.worker.js';
import { AuditStreamsController } from './streams/streams.controller.js';
import { SEARCH_FREE_TEXT_INDEX } from './migrations/1796700000000-AuditSearch.js';

@Module({
  controllers: [AuditController, AuditApiController, AuditStreamsController],
  providers: [
    AuditWriter,
    AuditSubscriber,
    AuditHooks,
    AuditRenderer,
    AuditSigner,
    AuditCheckpoints,
    AuditVerifier,
    AuditRetention,
    AuditSearch,
    AuditExporter,
    AuditStreamService,
    AuditStreamWorker,
  ],
  exports: [
    AuditWriter,
    AuditRenderer,
    AuditSigner,
    AuditCheckpoints,
    AuditVerifier,
    AuditRetention,
    AuditSearch,
    AuditExporter,
  ],
})
export class AuditModule implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly tags: AuditTagRegistry,
    private readonly recorder: AuditRecorder,
    private readonly writer: AuditWriter,
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Registers the core catalogue and becomes the store behind every plugin's `recordAudit`. */
  onModuleInit(): void {
    for (const definition of CORE_CATALOGUE) this.tags.register(definition, 'core');
    this.recorder.implement(this.writer);
  }

  /**
   * The migrations AuditFreeText and AuditSearch leave the trigram index out when pg_trgm
   * cannot be created (no contrib on the server, or a role that may not): say so at every
   * start until it exists.
   */
  async onApplicationBootstrap(): Promise<void> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM pg_indexes WHERE tablename = 'audit_event_search' AND indexname = $1`,
      [SEARCH_FREE_TEXT_INDEX],
    );
    if (rows.length) return;
    this.logger.warn(
      { index: SEARCH_FREE_TEXT_INDEX },
      "audit: no trigram index for the audit log's free-text filter (pg_trgm could not be " +
        'created when the audit migration ran), so `q=<text>` reads every event; see ' +
        'docs/operating.md "Database extensions" to add it',
    );
  }
}
