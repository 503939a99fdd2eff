import { filenameName, isValidProjectName, normalizeName } from './names.js';

describe('project names', () => {
  it.each([
    'friendly-bard',
    'Friendly-Bard',
    'friendly.bard',
    'friendly_bard',
    'friendly--bard',
    'FrIeNdLy-._.-bArD',
  ])('normalises %s to friendly-bard (PEP 503)', (name) => {
    expect(normalizeName(name)).toBe('friendly-bard');
  });

  it('spells names for filenames with underscores', () => {
    expect(filenameName('Django-Rest_Framework')).toBe('django_rest_framework');
  });

  it.each(['a', 'A1', 'acme-widgets', 'zope.interface', 'x_y', '1up'])('accepts %s', (name) => {
    expect(isValidProjectName(name)).toBe(true);
  });

  it.each(['', '-a', 'a-', 'a.', '_a', 'a b', 'ä', 'a/b', 'a\n', 'name\n', 'a'.repeat(201)])(
    'refuses %j (PEP 508)',
    (name) => {
      expect(isValidProjectName(name)).toBe(false);
    },
  );
});
