import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs the real `larder` command (it builds dist/ first when stale), as an operator would. */
function larder(args: string[], env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'larder-cli-'));
  try {
    const { DATABASE_URL: _ignored, ...inherited } = process.env;
    const result = spawnSync(process.execPath, ['bin/larder.mjs', ...args], {
      env: { ...inherited, NODE_OPTIONS: '', LARDER_DATA_DIR: dataDir, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('larder plugins list', () => {
  const env = {
    LARDER_PLUGINS: 'upload-policy,notify-email',
    LARDER_PLUGIN_NOTIFY_EMAIL_SMTP_URL: 'smtp://127.0.0.1:2525',
  };

  it('prints each loaded plugin with its version, API range, hooks, tabs and audit tags', () => {
    const { status, stdout } = larder(['plugins', 'list'], env);
    expect(status).toBe(0);
    expect(stdout).toContain(
      'upload-policy 1.0.0  (api ^1.0.0, from plugins/upload-policy)\n  hooks:      file.uploading (before)\n  tabs:       -\n  audit tags: -',
    );
    expect(stdout).toContain('notify-email 1.0.0  (api ^1.0.0, from plugins/notify-email)');
    expect(stdout).toContain('audit tags: notify:email:sent');
    expect(stdout).toContain('account.password.changed (after)');
  }, 120_000);

  it('--json keeps stdout to one JSON document for scripts', () => {
    const { status, stdout } = larder(['plugins', 'list', '--json'], env);
    expect(status).toBe(0);
    const list = JSON.parse(stdout);
    expect(list.pluginApi).toBe('1.3.0');
    expect(list.loaded.map((p: { name: string }) => p.name)).toEqual([
      'upload-policy',
      'notify-email',
    ]);
    expect(list.loaded[1].hooks).toHaveLength(12);
  }, 120_000);

  it('names a plugin it cannot load and fails, or lists it as not loaded when not strict', () => {
    const strict = larder(['plugins', 'list'], { LARDER_PLUGINS: 'notify-email' });
    expect(strict.status).toBe(1);
    expect(strict.stdout).toBe('');
    // The last line (a first line may say dist/ is being built).
    expect(strict.stderr.trimEnd().split('\n').pop()).toBe(
      'larder: plugin notify-email: LARDER_PLUGIN_NOTIFY_EMAIL_SMTP_URL: must be an smtp:// or smtps:// URL',
    );
    const lenient = larder(['plugins', 'list'], {
      LARDER_PLUGINS: 'notify-email,upload-policy',
      LARDER_PLUGINS_STRICT: 'false',
    });
    expect(lenient.status).toBe(0);
    expect(lenient.stdout).toContain('upload-policy 1.0.0');
    expect(lenient.stdout).toContain(
      'NOT LOADED: plugin notify-email: LARDER_PLUGIN_NOTIFY_EMAIL_SMTP_URL',
    );
  }, 120_000);
});

describe('plugin command groups', () => {
  const env = { LARDER_PLUGINS: join(process.cwd(), 'test/fixtures/plugins/cli-sample/index.mjs') };

  it('adds `larder <plugin> …` commands that print to stdout and can use the app services', () => {
    const greet = larder(['cli-sample', 'greet', 'world'], env);
    expect(greet.stderr).not.toContain('larder:');
    expect(greet.stdout).toBe('hello world\n');
    const users = larder(['cli-sample', 'users'], env);
    expect(users.status).toBe(0);
    expect(users.stdout).toBe('users: 0\n');
    const help = larder(['--help'], env);
    expect(help.stdout).toMatch(/cli-sample\s+Sample plugin commands \(plugin\)/);
  }, 240_000);

  it('says why when the plugin of the command cannot load, while core commands still run', () => {
    const broken = { LARDER_PLUGINS: 'notify-email' }; // no SMTP URL: refused in strict mode
    const failed = larder(['notify-email', 'anything'], broken);
    expect(failed.status).toBe(1);
    expect(failed.stderr.trimEnd().split('\n').pop()).toBe(
      'larder: plugin notify-email: LARDER_PLUGIN_NOTIFY_EMAIL_SMTP_URL: must be an smtp:// or smtps:// URL',
    );
    const core = larder(['--version'], broken);
    expect(core.status).toBe(0);
  }, 240_000);
});
