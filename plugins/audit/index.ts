import { definePlugin } from '../../src/plugin-api/index.js';
import { AuditCheckpoint, AuditVerifyRun } from './audit-checkpoint.entity.js';
import { AuditEvent } from './audit-event.entity.js';
import { AuditModule } from './audit.module.js';
import { AuditOptions } from './audit.options.js';
import { AUDIT_PLUGIN_TAGS } from './catalogue.js';
import { auditCommands } from './cli/index.js';
import { AuditEvents1795700000000 } from './migrations/1795700000000-AuditEvents.js';
import { AuditChain1795800000000 } from './migrations/1795800000000-AuditChain.js';
import { AuditStreams1795900000000 } from './migrations/1795900000000-AuditStreams.js';
import { AuditOutboxEntry, AuditStreamDestination } from './streams/stream.entities.js';
import { AuditDailyCounts1796000000000 } from './migrations/1796000000000-AuditDailyCounts.js';
import { AuditChainTime1796100000000 } from './migrations/1796100000000-AuditChainTime.js';
import { AuditFreeText1796200000000 } from './migrations/1796200000000-AuditFreeText.js';
import { AuditOutboxTrigger1796300000000 } from './migrations/1796300000000-AuditOutboxTrigger.js';
import { AuditChainAppend1796400000000 } from './migrations/1796400000000-AuditChainAppend.js';
import { AuditIpIndex1796500000000 } from './migrations/1796500000000-AuditIpIndex.js';
import { AuditInsertTrigger1796600000000 } from './migrations/1796600000000-AuditInsertTrigger.js';
import { AuditSearch1796700000000 } from './migrations/1796700000000-AuditSearch.js';
import { AuditChainAppendOne1796800000000 } from './migrations/1796800000000-AuditChainAppendOne.js';

/**
 * The audit plugin (DESIGN.md §8): records every sensitive action in `audit_events` and shows
 * it as Security history (account, project) and as the admin Audit log.
 */
export default definePlugin({
  name: 'audit',
  version: '1.0.0',
  api: '^1.3.0',
  description: 'Records every sensitive action and shows it as Security history and Audit log',
  module: AuditModule,
  entities: [AuditEvent, AuditCheckpoint, AuditVerifyRun, AuditStreamDestination, AuditOutboxEntry],
  migrations: [
    AuditEvents1795700000000,
    AuditChain1795800000000,
    AuditStreams1795900000000,
    AuditDailyCounts1796000000000,
    AuditChainTime1796100000000,
    AuditFreeText1796200000000,
    AuditOutboxTrigger1796300000000,
    AuditChainAppend1796400000000,
    AuditIpIndex1796500000000,
    AuditInsertTrigger1796600000000,
    AuditSearch1796700000000,
    AuditChainAppendOne1796800000000,
  ],
  options: AuditOptions,
  commands: auditCommands,
  tabs: [
    {
      page: 'account',
      id: 'security-history',
      title: 'Security history',
      path: '/manage/account/history/',
      permission: 'signed-in',
      order: 90,
    },
    {
      page: 'project',
      id: 'security-history',
      title: 'Security history',
      path: '/manage/project/:project/history/',
      permission: 'project-owner',
      order: 90,
    },
    {
      page: 'admin',
      id: 'audit-log',
      title: 'Audit log',
      path: '/admin/audit/',
      permission: 'admin',
      order: 90,
    },
    {
      page: 'admin',
      id: 'audit-streams',
      title: 'Audit streams',
      path: '/admin/audit/streams/',
      permission: 'admin',
      order: 91,
    },
  ],
  auditTags: AUDIT_PLUGIN_TAGS,
});
