import {
  Body,
  Controller,
  Get,
  NotFoundException,
  Param,
  Post,
  Redirect,
  Render,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  CurrentProject,
  CurrentUser,
  ProjectRole,
  SignedIn,
} from '../accounts/auth/auth.decorators.js';
import type { ResolvedProject } from '../accounts/auth/auth.types.js';
import type { User } from '../accounts/users/user.entity.js';
import { BlobJanitor } from '../packages/blob-janitor.service.js';
import { ReleaseService } from '../packages/release.service.js';
import { TabRegistry } from '../web/tabs.js';
import type { Project } from './project.entity.js';
import { ProjectService } from './project.service.js';
import {
  ChangeRoleDto,
  ConfirmProjectDto,
  ConfirmVersionDto,
  DeleteFileDto,
  InviteDto,
  YankDto,
} from './project-pages.dto.js';
import { RoleService } from './role.service.js';

/**
 * Project management, PyPI's pages: `/manage/projects/` and, per project, releases (with each
 * release's files), collaboration and settings — tabs through the extension point, so plugins
 * (the audit plugin's *Security history*) add their own.
 */
@Controller('manage')
export class ManageProjectController {
  constructor(
    private readonly projects: ProjectService,
    private readonly roles: RoleService,
    private readonly releases: ReleaseService,
    private readonly janitor: BlobJanitor,
    private readonly tabs: TabRegistry,
  ) {}

  private async project(resolved: ResolvedProject): Promise<Project> {
    const project = await this.projects.findByName(resolved.project.normalizedName);
    if (!project) throw new NotFoundException(`No project named "${resolved.project.name}".`);
    return project;
  }

  private locals(user: User, resolved: ResolvedProject, active: string, title: string) {
    return {
      title,
      project: resolved.project,
      role: resolved.role,
      isOwner: resolved.role === 'Owner',
      tabs: this.tabs.render(
        'project',
        {
          user: { id: user.id, username: user.username, isAdmin: user.isAdmin },
          projectRole: resolved.role,
        },
        active,
        { project: resolved.project.normalizedName },
      ),
    };
  }

  @Get('projects')
  @SignedIn()
  @Render('projects/list')
  async list(@CurrentUser() user: User) {
    return {
      title: 'Your projects',
      projects: await this.projects.listForUser(user.id),
      invitations: await this.roles.invitationsFor(user.id),
    };
  }

  @Post('invitations/:id/accept')
  @SignedIn()
  @Redirect('/manage/projects/', 303)
  async accept(@Param('id') id: string, @CurrentUser() user: User): Promise<void> {
    await this.roles.accept(id, user);
  }

  @Post('invitations/:id/decline')
  @SignedIn()
  @Redirect('/manage/projects/', 303)
  async decline(@Param('id') id: string, @CurrentUser() user: User): Promise<void> {
    await this.roles.decline(id, user);
  }

  @Get('project/:name')
  @ProjectRole('Maintainer')
  @Redirect()
  root(@CurrentProject() resolved: ResolvedProject) {
    return {
      url: `/manage/project/${encodeURIComponent(resolved.project.normalizedName)}/releases/`,
      statusCode: 302,
    };
  }

  @Get('project/:name/releases')
  @ProjectRole('Maintainer')
  @Render('projects/releases')
  async releasesPage(@CurrentUser() user: User, @CurrentProject() resolved: ResolvedProject) {
    const project = await this.project(resolved);
    const releases = await this.releases.list(project.id);
    return {
      ...this.locals(user, resolved, 'releases', `Releases · ${project.name}`),
      releases: releases.map((r) => ({
        version: r.version,
        yanked: r.yanked,
        yankedReason: r.yankedReason,
        createdAt: r.createdAt,
        files: r.files?.length ?? 0,
      })),
    };
  }

  @Get('project/:name/release/:version')
  @ProjectRole('Maintainer')
  @Render('projects/release')
  async releasePage(
    @Param('version') version: string,
    @CurrentUser() user: User,
    @CurrentProject() resolved: ResolvedProject,
  ) {
    const project = await this.project(resolved);
    const release = await this.releases.find(project.id, version);
    if (!release) throw new NotFoundException(`${project.name} has no version ${version}.`);
    return {
      ...this.locals(user, resolved, 'releases', `${project.name} ${release.version}`),
      release,
      files: [...(release.files ?? [])].sort((a, b) => a.filename.localeCompare(b.filename)),
    };
  }

  private async release(resolved: ResolvedProject, version: string) {
    const project = await this.project(resolved);
    const release = await this.releases.find(project.id, version);
    if (!release) throw new NotFoundException(`${project.name} has no version ${version}.`);
    return { project, release };
  }

  private static releaseUrl(resolved: ResolvedProject, version: string): string {
    return `/manage/project/${encodeURIComponent(resolved.project.normalizedName)}/release/${encodeURIComponent(version)}/`;
  }

  @Post('project/:name/release/:version/yank')
  @ProjectRole('Owner')
  async yank(
    @Param('version') version: string,
    @Body() body: YankDto,
    @CurrentProject() resolved: ResolvedProject,
    @Res() res: Response,
  ): Promise<void> {
    const { project, release } = await this.release(resolved, version);
    await this.releases.yank(project, release, body.reason ?? '');
    res.redirect(303, ManageProjectController.releaseUrl(resolved, release.version));
  }

  @Post('project/:name/release/:version/unyank')
  @ProjectRole('Owner')
  async unyank(
    @Param('version') version: string,
    @CurrentProject() resolved: ResolvedProject,
    @Res() res: Response,
  ): Promise<void> {
    const { project, release } = await this.release(resolved, version);
    await this.releases.unyank(project, release);
    res.redirect(303, ManageProjectController.releaseUrl(resolved, release.version));
  }

  @Post('project/:name/release/:version/delete')
  @ProjectRole('Owner')
  async deleteRelease(
    @Param('version') version: string,
    @Body() body: ConfirmVersionDto,
    @CurrentProject() resolved: ResolvedProject,
    @Res() res: Response,
  ): Promise<void> {
    const { project, release } = await this.release(resolved, version);
    const keys = await this.releases.deleteRelease(project, release, body.confirm_version);
    await this.janitor.discard(keys);
    res.redirect(303, `/manage/project/${encodeURIComponent(project.normalizedName)}/releases/`);
  }

  @Post('project/:name/release/:version/delete-file')
  @ProjectRole('Owner')
  async deleteFile(
    @Param('version') version: string,
    @Body() body: DeleteFileDto,
    @CurrentProject() resolved: ResolvedProject,
    @Res() res: Response,
  ): Promise<void> {
    const { project, release } = await this.release(resolved, version);
    const keys = await this.releases.deleteFile(project, release, body.filename);
    await this.janitor.discard(keys);
    res.redirect(303, ManageProjectController.releaseUrl(resolved, release.version));
  }

  @Get('project/:name/collaboration')
  @ProjectRole('Owner')
  @Render('projects/collaboration')
  async collaboration(@CurrentUser() user: User, @CurrentProject() resolved: ResolvedProject) {
    const project = await this.project(resolved);
    return {
      ...this.locals(user, resolved, 'collaboration', `Collaborators · ${project.name}`),
      collaborators: (await this.roles.collaborators(project.id)).map((r) => ({
        id: r.id,
        username: r.user!.username,
        role: r.roleName,
        otherRole: r.roleName === 'Owner' ? 'Maintainer' : 'Owner',
        isSelf: r.userId === user.id,
      })),
      invitations: await this.roles.pendingInvitations(project.id),
    };
  }

  private collaborationUrl(resolved: ResolvedProject): string {
    return `/manage/project/${encodeURIComponent(resolved.project.normalizedName)}/collaboration/`;
  }

  @Post('project/:name/collaboration/invite')
  @ProjectRole('Owner')
  async invite(
    @Body() body: InviteDto,
    @CurrentProject() resolved: ResolvedProject,
    @Res() res: Response,
  ): Promise<void> {
    await this.roles.invite(await this.project(resolved), body.username, body.role);
    res.redirect(303, this.collaborationUrl(resolved));
  }

  @Post('project/:name/collaboration/invitation/:id/revoke')
  @ProjectRole('Owner')
  async revoke(
    @Param('id') id: string,
    @CurrentProject() resolved: ResolvedProject,
    @Res() res: Response,
  ): Promise<void> {
    await this.roles.revoke(await this.project(resolved), id);
    res.redirect(303, this.collaborationUrl(resolved));
  }

  @Post('project/:name/collaboration/role/:id/change')
  @ProjectRole('Owner')
  async changeRole(
    @Param('id') id: string,
    @Body() body: ChangeRoleDto,
    @CurrentProject() resolved: ResolvedProject,
    @Res() res: Response,
  ): Promise<void> {
    await this.roles.change(await this.project(resolved), id, body.role);
    res.redirect(303, this.collaborationUrl(resolved));
  }

  @Post('project/:name/collaboration/role/:id/remove')
  @ProjectRole('Owner')
  async removeRole(
    @Param('id') id: string,
    @CurrentProject() resolved: ResolvedProject,
    @Res() res: Response,
  ): Promise<void> {
    await this.roles.remove(await this.project(resolved), id);
    res.redirect(303, this.collaborationUrl(resolved));
  }

  @Get('project/:name/settings')
  @ProjectRole('Owner')
  @Render('projects/settings')
  async settings(@CurrentUser() user: User, @CurrentProject() resolved: ResolvedProject) {
    return this.locals(user, resolved, 'settings', `Settings · ${resolved.project.name}`);
  }

  @Post('project/:name/delete')
  @ProjectRole('Owner')
  @Redirect('/manage/projects/', 303)
  async deleteProject(
    @Body() body: ConfirmProjectDto,
    @CurrentProject() resolved: ResolvedProject,
  ): Promise<void> {
    const keys = await this.projects.delete(
      await this.project(resolved),
      body.confirm_project_name,
    );
    await this.janitor.discard(keys);
  }
}
