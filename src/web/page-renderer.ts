import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { TabRegistry, type TabSet } from './tabs.js';
import { ViewerService } from './viewer.js';

/** What a tabbed page tells the layout, besides its own values. */
export interface PageOptions {
  title: string;
  /** The tab bar to show and which tab is this page's. */
  tabs?: { set: TabSet; active: string; project?: string };
  [local: string]: unknown;
}

/**
 * Renders a view (an absolute path, e.g. a plugin's own) inside the core layout, with the tab
 * bar of its page built from the contributions the viewer may see.
 */
@Injectable()
export class PageRenderer {
  constructor(
    private readonly tabs: TabRegistry,
    private readonly viewers: ViewerService,
  ) {}

  async render(res: Response, view: string, options: PageOptions): Promise<void> {
    const { tabs, ...locals } = options;
    const viewer = await this.viewers.viewer(tabs?.project);
    const rendered = tabs
      ? this.tabs.render(tabs.set, viewer, tabs.active, { project: tabs.project })
      : [];
    // The accounts feature may already have put the signed-in user in res.locals.
    const user = res.locals.currentUser === undefined ? { currentUser: viewer.user } : {};
    const html = await new Promise<string>((resolve, reject) =>
      res.render(view, { ...user, ...locals, tabs: rendered }, (error, out) =>
        error ? reject(error) : resolve(out),
      ),
    );
    res.type('html').send(html);
  }
}
