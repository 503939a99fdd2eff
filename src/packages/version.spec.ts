import {
  canonicalizeVersion,
  compareVersions,
  isCanonicalPublicVersion,
  isPrerelease,
  isValidVersion,
  normalizeVersion,
  parseVersion,
  sortVersions,
  InvalidVersionError,
  isValidSpecifierSet,
} from './version.js';

describe('PEP 440 versions', () => {
  it.each([
    ['1.1RC1', '1.1rc1'],
    ['00', '0'],
    ['09000', '9000'],
    ['1.1.a1', '1.1a1'],
    ['1.1-a1', '1.1a1'],
    ['1.0a.1', '1.0a1'],
    ['1.1alpha1', '1.1a1'],
    ['1.1beta2', '1.1b2'],
    ['1.1c3', '1.1rc3'],
    ['1.1pre3', '1.1rc3'],
    ['1.1preview3', '1.1rc3'],
    ['1.2a', '1.2a0'],
    ['1.2-post2', '1.2.post2'],
    ['1.2post2', '1.2.post2'],
    ['1.2.post-2', '1.2.post2'],
    ['1.0-r4', '1.0.post4'],
    ['1.0rev4', '1.0.post4'],
    ['1.2.post', '1.2.post0'],
    ['1.0-1', '1.0.post1'],
    ['1.2-dev2', '1.2.dev2'],
    ['1.2dev2', '1.2.dev2'],
    ['1.2.dev', '1.2.dev0'],
    ['1.0+ubuntu-1', '1.0+ubuntu.1'],
    ['1.0+Local_01.ABC', '1.0+local.1.abc'],
    ['v1.0', '1.0'],
    ['V1.0', '1.0'],
    [' 1.0\n', '1.0'],
    ['1!2.0', '1!2.0'],
    ['0!1.0', '1.0'],
    ['1.0-a1.post2.dev3', '1.0a1.post2.dev3'],
    ['2024.01.05', '2024.1.5'],
    ['99999999999999999999.1', '99999999999999999999.1'],
  ])('normalises %j to %s', (input, expected) => {
    expect(normalizeVersion(input)).toBe(expected);
  });

  it.each([
    '',
    'dog',
    '1.0-',
    '1.0.',
    '.1',
    '1..0',
    '1.0+',
    '1.0+a..b',
    '1.0 1',
    '1_0',
    '1.0+ä',
    'v',
    '1!',
  ])('refuses %j', (input) => {
    expect(isValidVersion(input)).toBe(false);
    expect(() => parseVersion(input)).toThrow(InvalidVersionError);
  });

  it.each([
    ['1.0.0', '1'],
    ['1.0', '1'],
    ['1', '1'],
    ['1.4.0.0.0', '1.4'],
    ['0.0', '0'],
    ['1.0.0rc1', '1rc1'],
    ['1.0.0.post0', '1.post0'],
    ['1.10', '1.10'],
    ['1!1.0.0+local.0', '1!1+local.0'],
  ])('canonicalises %s to %s (packaging canonicalize_version)', (input, expected) => {
    expect(canonicalizeVersion(input)).toBe(expected);
  });

  it('treats 1.0 and 1.0.0 as one release and 1.0 and 1.0.1 as two', () => {
    expect(canonicalizeVersion('1.0')).toBe(canonicalizeVersion('1.0.0'));
    expect(canonicalizeVersion('1.0')).not.toBe(canonicalizeVersion('1.0.1'));
    expect(compareVersions('1.0', '1.0.0')).toBe(0);
  });

  it('orders as packaging does (the spec example order)', () => {
    const ordered = [
      '1.dev0',
      '1.0.dev456',
      '1.0a1',
      '1.0a2.dev456',
      '1.0a12.dev456',
      '1.0a12',
      '1.0b1.dev456',
      '1.0b2',
      '1.0b2.post345.dev456',
      '1.0b2.post345',
      '1.0rc1.dev456',
      '1.0rc1',
      '1.0',
      '1.0+abc.5',
      '1.0+abc.7',
      '1.0+5',
      '1.0.post456.dev34',
      '1.0.post456',
      '1.0.15',
      '1.1.dev1',
      '2!0.1',
    ];
    const shuffled = [...ordered].reverse();
    expect(sortVersions(shuffled)).toEqual(ordered);
    for (let i = 1; i < ordered.length; i++) {
      expect(compareVersions(ordered[i - 1], ordered[i])).toBe(-1);
      expect(compareVersions(ordered[i], ordered[i - 1])).toBe(1);
    }
  });

  it('compares numbers as numbers, not text', () => {
    expect(compareVersions('1.10', '1.9')).toBe(1);
    expect(compareVersions('1.0+10', '1.0+9')).toBe(1);
    expect(compareVersions('1.0+a', '1.0+1')).toBe(-1);
    expect(compareVersions('1.0+a', '1.0+a.1')).toBe(-1);
  });

  it('knows pre-releases and the canonical spelling', () => {
    expect(isPrerelease('1.0a1')).toBe(true);
    expect(isPrerelease('1.0.dev1')).toBe(true);
    expect(isPrerelease('1.0.post1')).toBe(false);
    expect(isCanonicalPublicVersion('1.0rc1')).toBe(true);
    expect(isCanonicalPublicVersion('1.0-rc1')).toBe(false);
    expect(isCanonicalPublicVersion('01.0')).toBe(false);
  });
});

describe('PEP 440 specifier sets', () => {
  it.each([
    '>=3.8',
    '>=3.8, <4',
    '~=3.10',
    '!=3.9.*,>=3',
    '==3.*',
    '===foo',
    '>3.6.0a1',
    '==1.0+local',
  ])('accepts %j', (spec) => {
    expect(isValidSpecifierSet(spec)).toBe(true);
  });
  it.each([
    '',
    '3.8',
    '>=',
    '>=3.8;',
    '>=3.*',
    '~=3',
    '>=dog',
    '>=3.8,',
    '>=1.0+local',
    '<script>',
  ])('refuses %j', (spec) => {
    expect(isValidSpecifierSet(spec)).toBe(false);
  });
});
