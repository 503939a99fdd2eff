import type { Response } from 'express';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { PageOptions, PageRenderer } from '../web/page-renderer.js';
import type { AuditEventInput, AuditRecorder } from './audit-extension.js';

/**
 * What the host gives each plugin about itself, injectable in the plugin's root module:
 * `constructor(private readonly plugin: PluginContext<MyOptions>)`.
 */
export class PluginContext<Options extends object = object> {
  constructor(
    readonly name: string,
    readonly version: string,
    /** The plugin's folder; its views are under `<root>/views`. */
    readonly root: string | undefined,
    /** Validated options (also injectable by their class). */
    readonly options: Options,
    /** Logs with `{ plugin: name }` on every line. */
    readonly logger: Logger,
    private readonly audit: AuditRecorder,
    private readonly pages: PageRenderer,
  ) {}

  /** The absolute path of one of the plugin's views, `views/<name>.hbs`. */
  view(name: string): string {
    if (!this.root)
      throw new Error(`${this.name}: the plugin's folder is unknown, so it has no views`);
    return join(this.root, 'views', name);
  }

  /**
   * Renders the plugin's view `name` inside the core layout; `tabs` shows a page's tab bar
   * with this page's tab active.
   */
  render(res: Response, name: string, options: PageOptions): Promise<void> {
    return this.pages.render(res, this.view(name), options);
  }

  /** Whether audit events are stored (the audit plugin is loaded). */
  get auditEnabled(): boolean {
    return this.audit.enabled;
  }

  /**
   * Records an audit event in this plugin's name: inside the action's transaction when given
   * its `manager` (a `transaction`-phase hook), on its own otherwise. A no-op without the
   * audit plugin. The tag must be one of the manifest's `auditTags`.
   */
  recordAudit(event: AuditEventInput, manager?: EntityManager): Promise<void> {
    return this.audit.record(this.name, event, manager);
  }
}
