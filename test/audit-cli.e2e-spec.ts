import { cliWorkspace, larder, type CliWorkspace } from './helpers/processes.js';

interface Row {
  tag: string;
  actor_kind: string;
  actor_name: string | null;
  user_id: string | null;
  project_id: string | null;
  project_name: string | null;
  ip: string | null;
  additional: Record<string, unknown>;
  json: string;
}

/** The audit matrix's command-line part: what `larder user|token` do is recorded, by the system. */
describe('audit of the larder user and token commands', () => {
  let workspace: CliWorkspace;
  let env: Record<string, string>;
  const password = 'Cli-audited-password-5521';
  let token = '';

  beforeAll(async () => {
    workspace = await cliWorkspace('larder-audit-cli-');
    env = { ...workspace.env, LARDER_PLUGINS: 'audit' };
  }, 180_000);
  afterAll(() => workspace?.dispose());

  /** Opens the database the commands wrote to (after they have exited). */
  const inspect: CliWorkspace['inspect'] = (fn) => workspace.inspect(fn);

  /** Every stored event. */
  const events = (): Promise<Row[]> =>
    inspect((ds) =>
      ds.query(
        `SELECT tag, actor_kind, actor_name, user_id, project_id, project_name, host(ip) AS ip,
                additional, row_to_json(a)::text AS json
           FROM audit_events a ORDER BY id`,
      ),
    );

  it('records user create, token create (with its project scope) and user disable by the command', async () => {
    const created = await larder(
      ['user', 'create', 'cli-person', '--email', 'cli@example.test', '--password-stdin'],
      env,
      `${password}\n`,
    );
    expect(created).toMatchObject({ code: 0 });
    // A project the user owns (a token may be limited only to those), written behind the
    // app's back: setting up the test is no audited action.
    const projectId: string = await inspect(async (ds) => {
      const [{ id }] = await ds.query(
        `INSERT INTO projects (name, normalized_name) VALUES ('Cli.Project', 'cli-project')
         RETURNING id::text AS id`,
      );
      await ds.query(
        `INSERT INTO roles (project_id, user_id, role_name)
         SELECT $1, id, 'Owner' FROM users WHERE normalized_username = 'cli-person'`,
        [id],
      );
      return id;
    });
    const made = await larder(
      ['token', 'create', 'cli-person', '--name', 'deploy', '--project', 'Cli_Project'],
      env,
    );
    expect(made.code).toBe(0);
    token = made.stdout.trim();
    const disabled = await larder(['user', 'disable', 'cli-person', '--reason', 'left'], env);
    expect(disabled.code).toBe(0);

    const rows = await events();
    const user = rows[0]?.user_id;
    expect(user).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      rows.map((r) => [r.tag, r.actor_kind, r.actor_name, r.user_id, r.project_name, r.ip]),
    ).toEqual([
      ['admin:user:create', 'system', 'cli:user-create', user, null, null],
      ['account:api_token:added', 'system', 'cli:token-create', user, null, null],
      // On the project's history, under its name.
      ['project:api_token:added', 'system', 'cli:token-create', null, 'Cli.Project', null],
      ['admin:user:disable', 'system', 'cli:user-disable', user, null, null],
    ]);
    expect(rows.map((r) => r.additional)).toEqual([
      { username: 'cli-person', admin: false },
      {
        description: 'deploy',
        scope: ['cli-project'],
        expires: null,
        token_id: expect.any(String),
      },
      { description: 'deploy', user: 'cli-person' },
      { reason: 'left' },
    ]);
    expect(rows[2].project_id).toBe(projectId);
    // Neither the password read from stdin nor the printed token is stored anywhere.
    const all = rows.map((r) => r.json).join('\n');
    expect(token).toMatch(/^larder-/);
    expect(all).not.toContain(password);
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.slice('larder-0123456789abcdef-'.length));
  }, 240_000);
});
