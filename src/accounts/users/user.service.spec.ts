import { normalizeUsername, usernameProblem } from './user.service.js';

describe('usernameProblem', () => {
  it.each(['alice', 'A', 'a.b-c_d', 'x1', 'Über'.slice(1)])('accepts %p', (name) => {
    expect(usernameProblem(name)).toBeNull();
  });

  it.each(['', '-alice', 'alice.', 'al ice', 'ali/ce', 'Über', 'a'.repeat(51), '<b>'])(
    'refuses %p',
    (name) => {
      expect(usernameProblem(name)).not.toBeNull();
    },
  );

  it('normalises to lower case for the uniqueness check', () => {
    expect(normalizeUsername(' Alice ')).toBe('alice');
  });
});
