import { verify } from '@node-rs/argon2';
import { KeyRing } from '../src/accounts/key-ring.js';
import { ApiToken } from '../src/accounts/tokens/api-token.entity.js';
import { User } from '../src/accounts/users/user.entity.js';
import { loadConfig } from '../src/config/config.js';
import { cliWorkspace, larder, type CliWorkspace } from './helpers/processes.js';

describe('larder user and token commands', () => {
  let workspace: CliWorkspace;
  let env: Record<string, string>;

  beforeAll(async () => {
    workspace = await cliWorkspace('larder-cli-accounts-');
    env = workspace.env;
  }, 180_000);
  afterAll(() => workspace?.dispose());

  /** Opens the database the commands wrote to (after they have exited). */
  const inspect: CliWorkspace['inspect'] = (fn) => workspace.inspect(fn);

  it('creates an administrator with a password read from stdin', async () => {
    const result = await larder(
      ['user', 'create', 'Root', '--email', 'root@example.test', '--admin', '--password-stdin'],
      env,
      'correct horse battery staple\n',
    );
    expect(result).toMatchObject({ code: 0, stdout: 'Created user Root (administrator).\n' });
    expect(result.stderr).not.toContain('correct horse battery staple');
    const user = await inspect((ds) =>
      ds.getRepository(User).findOneByOrFail({ normalizedUsername: 'root' }),
    );
    expect(user.isAdmin).toBe(true);
    expect(await verify(user.passwordHash!, 'correct horse battery staple')).toBe(true);
  });

  it('refuses a weak password or a bad username with a one-line message and exit 1', async () => {
    const weak = await larder(
      ['user', 'create', 'weakling', '--email', 'w@example.test', '--password-stdin'],
      env,
      'password1\n',
    );
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('larder: This password is one of the most commonly used');
    const bad = await larder(['user', 'create', 'no way', '--email', 'n@example.test'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('A username may contain only');
  });

  it('prints only the token on stdout, stored as a hash with its scope and expiry', async () => {
    // A token can be limited only to a project its owner has a role on.
    const refused = await larder(
      ['token', 'create', 'root', '--name', 'ci', '--project', 'Acme_Widgets'],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('larder: You have no role on a project named "acme-widgets"');
    await inspect((ds) =>
      ds.query(
        `WITH p AS (INSERT INTO projects (name, normalized_name) VALUES ('Acme_Widgets', 'acme-widgets') RETURNING id)
         INSERT INTO roles (project_id, user_id, role_name)
         SELECT p.id, u.id, 'Owner' FROM p, users u WHERE u.normalized_username = 'root'`,
      ),
    );
    const result = await larder(
      [
        'token',
        'create',
        'root',
        '--name',
        'ci',
        '--project',
        'Acme_Widgets',
        '--expires-days',
        '7',
      ],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^larder-[0-9a-f]{16}-[A-Za-z0-9_-]{43}\n$/);
    const value = result.stdout.trim();
    expect(result.stderr).not.toContain(value);
    const token = await inspect((ds) => ds.getRepository(ApiToken).findOneByOrFail({ name: 'ci' }));
    expect(token.projects).toEqual(['acme-widgets']);
    expect(token.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 6.9 * 86_400_000);
    const keys = new KeyRing(loadConfig({ ...env, LARDER_LOG_LEVEL: 'silent' }));
    expect(token.valueHash).toBe(keys.hash('api-token', value));
    expect(JSON.stringify(token)).not.toContain(value.slice(24));
  });

  it('disables a user', async () => {
    const result = await larder(['user', 'disable', 'ROOT', '--reason', 'left'], env);
    expect(result).toMatchObject({ code: 0, stdout: 'Disabled user ROOT.\n' });
    const user = await inspect((ds) =>
      ds.getRepository(User).findOneByOrFail({ normalizedUsername: 'root' }),
    );
    expect(user).toMatchObject({ isDisabled: true, disabledReason: 'left' });
    const missing = await larder(['user', 'disable', 'ghost'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No user named "ghost"');
  });
});
