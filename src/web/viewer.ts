import { Inject, Injectable, Optional } from '@nestjs/common';
import { PROJECT_ROLE_RESOLVER, type ProjectRoleResolver } from '../accounts/auth/auth.types.js';
import { maybeRequestContext } from '../context/request-context.js';
import type { TabViewer } from './tabs.js';

/** Who is looking at a page, as tab permissions see it: taken from the request context's actor. */
@Injectable()
export class ViewerService {
  constructor(
    @Optional() @Inject(PROJECT_ROLE_RESOLVER) private readonly projects?: ProjectRoleResolver,
  ) {}

  async viewer(project?: string): Promise<TabViewer> {
    const actor = maybeRequestContext()?.actor;
    const user =
      actor && (actor.kind === 'user' || actor.kind === 'token')
        ? { id: actor.userId, username: actor.username, isAdmin: actor.isAdmin }
        : null;
    const projectRole =
      user && project ? ((await this.projects?.resolve(project, user.id))?.role ?? null) : null;
    return { user, projectRole };
  }
}
