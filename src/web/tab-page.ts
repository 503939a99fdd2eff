import {
  applyDecorators,
  Injectable,
  NotFoundException,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { SignedIn } from '../accounts/auth/auth.decorators.js';
import { allows, TabRegistry, type TabSet } from './tabs.js';
import { ViewerService } from './viewer.js';

const TAB_PAGE = Symbol('larder.tab-page');

/**
 * Lets in only viewers the tab's permission allows; everyone else gets 404, as PyPI answers
 * for pages one may not see (their existence is not disclosed).
 */
@Injectable()
export class TabPageGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tabs: TabRegistry,
    private readonly viewers: ViewerService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const page = this.reflector.get<{ set: TabSet; id: string }>(TAB_PAGE, context.getHandler());
    if (!page) return true;
    const tab = this.tabs.find(page.set, page.id);
    // A page whose tab is not contributed (its plugin is not loaded) does not exist.
    if (!tab) throw new NotFoundException();
    const req = context.switchToHttp().getRequest<Request>();
    const project = page.set === 'project' ? String(req.params.project ?? '') : undefined;
    if (!allows(tab.permission, await this.viewers.viewer(project))) throw new NotFoundException();
    return true;
  }
}

/**
 * Marks a route as the page of tab `id` in `set`: a signed-in browser session is required
 * (anonymous visitors go to the sign-in page), then only viewers the tab allows get in.
 */
export function TabPage(set: TabSet, id: string): MethodDecorator {
  return applyDecorators(SetMetadata(TAB_PAGE, { set, id }), SignedIn(), UseGuards(TabPageGuard));
}
