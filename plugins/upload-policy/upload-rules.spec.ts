import { UploadPolicyOptions } from './upload-policy.options.js';
import { globToRegExp, UploadRules } from './upload-rules.js';

const MB = 1024 * 1024;
const rules = (options: Partial<UploadPolicyOptions>) =>
  new UploadRules(Object.assign(new UploadPolicyOptions(), options));
const upload = (over: Partial<Parameters<UploadRules['check']>[0]> = {}) => ({
  projectName: 'acme-widgets',
  filename: 'acme_widgets-1.0-py3-none-any.whl',
  size: 2 * MB,
  username: 'alice',
  ...over,
});

describe('upload rules', () => {
  it('let everything through until configured', () => {
    expect(rules({}).check(upload({ size: 10_000 * MB, filename: 'x.exe' }))).toBeNull();
  });

  it('refuse a file over the global limit, saying its size and the limit', () => {
    const policy = rules({ maxFileSizeMb: 1 });
    expect(policy.check(upload({ size: MB }))).toBeNull();
    expect(policy.check(upload({ size: 1.5 * MB }))).toBe(
      'acme_widgets-1.0-py3-none-any.whl is 1.5 MB; files of acme-widgets may be at most 1 MB.',
    );
  });

  it('apply a per-project limit over the global one, matching names as PEP 503 normalises them', () => {
    const policy = rules({ maxFileSizeMb: 1, projectMaxFileSizeMb: { Big_Model: 500, tiny: 0.5 } });
    expect(policy.check(upload({ projectName: 'big.model', size: 400 * MB }))).toBeNull();
    expect(policy.check(upload({ projectName: 'tiny', size: 0.6 * MB }))).toBe(
      'acme_widgets-1.0-py3-none-any.whl is 0.6 MB; files of tiny may be at most 0.5 MB.',
    );
  });

  it('refuse filenames matching none of the allowed patterns', () => {
    const policy = rules({ allowedFilenames: ['*.whl', '*.tar.gz'] });
    expect(policy.check(upload({ filename: 'acme_widgets-1.0.tar.gz' }))).toBeNull();
    expect(policy.check(upload({ filename: 'acme_widgets-1.0.zip' }))).toBe(
      'acme_widgets-1.0.zip is not an allowed filename; files must match *.whl or *.tar.gz.',
    );
  });

  it('reserve name prefixes to the users named, whatever the case or separators', () => {
    const policy = rules({ reservedPrefixes: { 'acme-': ['Alice', 'bob'] } });
    expect(policy.check(upload({ username: 'alice' }))).toBeNull();
    expect(policy.check(upload({ projectName: 'ACME.Widgets', username: 'mallory' }))).toBe(
      'project names starting with "acme-" are reserved; mallory may not upload to acme-widgets.',
    );
    expect(policy.check(upload({ projectName: 'acmewidgets', username: 'mallory' }))).toBeNull();
    expect(policy.check(upload({ username: null }))).toContain(
      'an anonymous client may not upload',
    );
  });

  it('treat glob characters literally except * and ?', () => {
    expect(globToRegExp('pkg-?.0+local.whl').test('pkg-1.0+local.whl')).toBe(true);
    expect(globToRegExp('pkg-?.0+local.whl').test('pkg-1x0+local.whl')).toBe(false);
  });
});
