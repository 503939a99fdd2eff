import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { PROJECT_ROLE_RESOLVER } from '../accounts/auth/auth.types.js';
import { TabRegistry } from '../web/tabs.js';
import { ManageProjectController } from './manage-project.controller.js';
import { ProjectPageController } from './project-page.controller.js';
import { ProjectService } from './project.service.js';
import { RoleService } from './role.service.js';

/**
 * Projects, roles and invitations, their pages, and the resolver behind `@ProjectRole`
 * routes (the auth guard asks it for the project and the user's role).
 */
@Global()
@Module({
  controllers: [ManageProjectController, ProjectPageController],
  providers: [
    ProjectService,
    RoleService,
    { provide: PROJECT_ROLE_RESOLVER, useExisting: ProjectService },
  ],
  exports: [ProjectService, RoleService, PROJECT_ROLE_RESOLVER],
})
export class ProjectsModule implements OnModuleInit {
  constructor(private readonly tabs: TabRegistry) {}

  onModuleInit(): void {
    const tab = (
      id: string,
      title: string,
      path: string,
      order: number,
      permission: 'project-maintainer' | 'project-owner',
    ) =>
      this.tabs.contribute({ set: 'project', id, title, path, order, permission, owner: 'core' });
    tab('releases', 'Releases', '/manage/project/:project/releases/', 10, 'project-maintainer');
    tab(
      'collaboration',
      'Collaborators',
      '/manage/project/:project/collaboration/',
      20,
      'project-owner',
    );
    tab('settings', 'Settings', '/manage/project/:project/settings/', 30, 'project-owner');
  }
}
