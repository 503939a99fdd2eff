import { TabRegistry, type TabViewer } from './tabs.js';

const alice: TabViewer = { user: { id: '1', username: 'alice', isAdmin: false } };
const admin: TabViewer = { user: { id: '2', username: 'root', isAdmin: true } };
const anonymous: TabViewer = { user: null };

describe('TabRegistry', () => {
  it('renders contributions in order, marking the active one', () => {
    const tabs = new TabRegistry();
    tabs.contribute({
      set: 'account',
      id: 'tokens',
      title: 'API tokens',
      path: '/manage/account/token/',
      order: 30,
    });
    tabs.contribute({
      set: 'account',
      id: 'account',
      title: 'Account',
      path: '/manage/account/',
      order: 10,
    });
    tabs.contribute({
      set: 'account',
      id: 'history',
      title: 'Security history',
      path: '/manage/account/history/',
      order: 40,
    });
    expect(tabs.render('account', alice, 'tokens')).toEqual([
      { id: 'account', title: 'Account', href: '/manage/account/', active: false },
      { id: 'tokens', title: 'API tokens', href: '/manage/account/token/', active: true },
      { id: 'history', title: 'Security history', href: '/manage/account/history/', active: false },
    ]);
  });

  it('shows a tab only to viewers its permission allows', () => {
    const tabs = new TabRegistry();
    tabs.contribute({
      set: 'admin',
      id: 'audit',
      title: 'Audit log',
      path: '/admin/audit/',
      permission: 'admin',
    });
    expect(tabs.render('admin', admin, '')).toHaveLength(1);
    expect(tabs.render('admin', alice, '')).toHaveLength(0);
    expect(tabs.render('admin', anonymous, '')).toHaveLength(0);
  });

  it('checks project roles and fills the project into the path', () => {
    const tabs = new TabRegistry();
    tabs.contribute({
      set: 'project',
      id: 'history',
      title: 'Security history',
      path: '/manage/project/:project/history/',
      permission: 'project-owner',
    });
    tabs.contribute({
      set: 'project',
      id: 'releases',
      title: 'Releases',
      path: '/manage/project/:project/releases/',
      permission: 'project-maintainer',
    });
    const owner = { ...alice, projectRole: 'Owner' };
    const maintainer = { ...alice, projectRole: 'Maintainer' };
    expect(
      tabs.render('project', owner, '', { project: 'acme-widgets' }).map((t) => t.href),
    ).toEqual(['/manage/project/acme-widgets/history/', '/manage/project/acme-widgets/releases/']);
    expect(tabs.render('project', maintainer, '', { project: 'x' }).map((t) => t.id)).toEqual([
      'releases',
    ]);
  });

  it('refuses a second tab with the same id in one set', () => {
    const tabs = new TabRegistry();
    tabs.contribute({ set: 'account', id: 'account', title: 'Account', path: '/a' });
    expect(() =>
      tabs.contribute({ set: 'account', id: 'account', title: 'Again', path: '/b' }),
    ).toThrow(/already contributed/);
  });
});
