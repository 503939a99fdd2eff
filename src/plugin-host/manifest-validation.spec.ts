import { validateManifest } from './manifest-validation.js';

const base = { name: 'demo', version: '1.0.0', api: '^1.0.0' };
const problem = (manifest: unknown) => {
  try {
    validateManifest(manifest, 'entry');
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

describe('manifest validation', () => {
  it('accepts a minimal manifest', () => {
    expect(problem(base)).toBe('accepted');
  });

  it.each([
    [
      undefined,
      'plugin entry: exports no manifest (expected `export default definePlugin({ … })`)',
    ],
    [
      { ...base, name: 'Demo Plugin' },
      'plugin entry: manifest `name` must be lower-case letters, digits and dashes, starting with a letter',
    ],
    [
      { ...base, version: 'one' },
      'plugin demo: manifest `version` must be a semver version, got "one"',
    ],
    [
      { ...base, api: 'latest' },
      'plugin demo: manifest `api` must be a semver range such as "^1.0.0", got "latest"',
    ],
    [{ ...base, module: {} }, 'plugin demo: manifest `module` must be a Nest module class'],
    [
      { ...base, migrations: [class AddThings {}] },
      'plugin demo: migration AddThings must end with a 13-digit timestamp (as generated)',
    ],
    [
      { ...base, tabs: [{ page: 'home', id: 'x', title: 'X', path: '/x/' }] },
      'plugin demo: tab x: `page` must be one of account, project, admin',
    ],
    [
      { ...base, tabs: [{ page: 'admin', id: 'x', title: 'X', path: '/x/', permission: 'root' }] },
      'plugin demo: tab x: `permission` must be one of signed-in, admin, project-owner, project-maintainer or a function',
    ],
    [
      {
        ...base,
        auditTags: [
          { tag: 'account:hacked', showsIn: ['account'], additional: [], description: 'x' },
        ],
      },
      "plugin demo: audit tag account:hacked uses a core source (account, project, file, admin); prefix it with the plugin's own",
    ],
    [
      {
        ...base,
        auditTags: [
          { tag: 'demo:thing:done', showsIn: ['everywhere'], additional: [], description: 'x' },
        ],
      },
      'plugin demo: audit tag demo:thing:done: `showsIn` must list some of account, project, admin',
    ],
  ])('refuses %j with a message saying what to fix', (manifest, message) => {
    expect(problem(manifest)).toBe(message);
  });
});
