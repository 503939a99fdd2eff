import { Injectable } from '@nestjs/common';
import { TabRegistry } from '../web/tabs.js';
import type { Session } from './sessions/session.entity.js';
import { SessionService } from './sessions/session.service.js';
import type { User } from './users/user.entity.js';

/**
 * What every `/manage/account/` page renders with: its tab bar from the extension point
 * (so plugins add tabs without touching these pages), and whether sensitive forms must
 * ask for the password again.
 */
@Injectable()
export class AccountPages {
  constructor(
    private readonly tabs: TabRegistry,
    private readonly sessions: SessionService,
  ) {}

  locals(user: User, session: Session, active: string, title: string): Record<string, unknown> {
    return {
      title,
      user: { username: user.username, isAdmin: user.isAdmin },
      tabs: this.tabs.render(
        'account',
        { user: { id: user.id, username: user.username, isAdmin: user.isAdmin } },
        active,
      ),
      needsPassword: !this.sessions.isRecentlyAuthenticated(session),
    };
  }
}
