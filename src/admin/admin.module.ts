import { Module, type OnModuleInit } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { TabRegistry } from '../web/tabs.js';
import { AdminUsersController } from './users.controller.js';

/** Administration pages; each contributes its tab to the `admin` tab set. */
@Module({
  imports: [AccountsModule],
  controllers: [AdminUsersController],
})
export class AdminModule implements OnModuleInit {
  constructor(private readonly tabs: TabRegistry) {}

  onModuleInit(): void {
    this.tabs.contribute({
      set: 'admin',
      id: 'users',
      title: 'Users',
      path: '/admin/users/',
      order: 10,
      permission: 'admin',
      owner: 'core',
    });
  }
}
