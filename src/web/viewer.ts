import { Inject, Injectable } from '@nestjs/common';
import { maybeRequestContext } from '../context/request-context.js';
import { PROJECT_ROLES, type ProjectRoles } from '../plugin-host/directories.js';
import type { TabViewer } from './tabs.js';

/** Who is looking at a page, as tab permissions see it: taken from the request context's actor. */
@Injectable()
export class ViewerService {
  constructor(@Inject(PROJECT_ROLES) private readonly roles: ProjectRoles) {}

  async viewer(project?: string): Promise<TabViewer> {
    const actor = maybeRequestContext()?.actor;
    const user =
      actor && (actor.kind === 'user' || actor.kind === 'token')
        ? { id: actor.userId, username: actor.username, isAdmin: actor.isAdmin }
        : null;
    const projectRole = user && project ? await this.roles.roleOf(user.id, project) : null;
    return { user, projectRole };
  }
}
