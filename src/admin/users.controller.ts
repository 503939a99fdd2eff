import { Body, Controller, Get, Param, Post, Query, Render, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AccountInputError } from '../accounts/account.errors.js';
import { AdminOnly, CurrentUser } from '../accounts/auth/auth.decorators.js';
import { AdminUserService } from '../accounts/users/admin-user.service.js';
import type { User } from '../accounts/users/user.entity.js';
import { TabRegistry } from '../web/tabs.js';
import { AdminCreateUserDto, AdminDisableDto } from './users.dto.js';

/** `/admin/users/`: list, create, disable, enable, grant and revoke administrator rights. */
@Controller('admin/users')
@AdminOnly()
export class AdminUsersController {
  constructor(
    private readonly admin: AdminUserService,
    private readonly tabs: TabRegistry,
  ) {}

  @Get()
  @Render('admin/users')
  async list(@CurrentUser() me: User, @Query('q') q?: string, @Query('after') after?: string) {
    const search = typeof q === 'string' ? q.slice(0, 100) : '';
    const { users, next } = await this.admin.list({
      q: search,
      after: typeof after === 'string' ? after.slice(0, 100) : undefined,
    });
    const query = (extra: Record<string, string>) =>
      `?${new URLSearchParams({ ...(search ? { q: search } : {}), ...extra }).toString()}`;
    return {
      q: search,
      next: next ? query({ after: next }) : null,
      first: after ? query({}) : null,
      title: 'Users',
      tabs: this.tabs.render(
        'admin',
        { user: { id: me.id, username: me.username, isAdmin: true } },
        'users',
      ),
      users: users.map((u) => ({
        username: u.username,
        email: u.primaryEmail,
        isAdmin: u.isAdmin,
        isDisabled: u.isDisabled,
        disabledReason: u.disabledReason,
        createdAt: u.createdAt,
        lastLoginAt: u.lastLoginAt,
        isSelf: u.id === me.id,
      })),
    };
  }

  @Post()
  async create(@Body() body: AdminCreateUserDto, @Res() res: Response): Promise<void> {
    await this.admin.create({
      username: body.username,
      email: body.email,
      password: body.password ? body.password : undefined,
      isAdmin: body.admin !== undefined,
    });
    res.redirect(303, '/admin/users/');
  }

  @Post(':username/disable')
  async disable(
    @Param('username') username: string,
    @Body() body: AdminDisableDto,
    @CurrentUser() me: User,
    @Res() res: Response,
  ): Promise<void> {
    await this.admin.setDisabled(me, username, true, body.reason);
    res.redirect(303, '/admin/users/');
  }

  @Post(':username/enable')
  async enable(@Param('username') username: string, @CurrentUser() me: User, @Res() res: Response) {
    await this.admin.setDisabled(me, username, false);
    res.redirect(303, '/admin/users/');
  }

  @Post(':username/grant-admin')
  async grant(@Param('username') username: string, @CurrentUser() me: User, @Res() res: Response) {
    await this.admin.setAdmin(me, username, true);
    res.redirect(303, '/admin/users/');
  }

  @Post(':username/revoke-admin')
  async revoke(@Param('username') username: string, @CurrentUser() me: User, @Res() res: Response) {
    if (!username) throw new AccountInputError('Name a user.');
    await this.admin.setAdmin(me, username, false);
    res.redirect(303, '/admin/users/');
  }
}
