import { MAX_PASSWORD_LENGTH, PasswordService, passwordProblem } from './password.service.js';

describe('passwordProblem', () => {
  it('accepts a long, uncommon password', () => {
    expect(passwordProblem('correct horse battery staple', 'alice')).toBeNull();
  });

  it('refuses fewer than 8 characters', () => {
    expect(passwordProblem('Ab3$xyz', 'alice')).toMatch(/at least 8 characters/);
    expect(passwordProblem('Ab3$xyz9', 'alice')).toBeNull();
  });

  it('refuses a password containing the username, in any case', () => {
    expect(passwordProblem('my-ALICE-password-99', 'alice')).toMatch(
      /must not contain your username/,
    );
  });

  it('refuses the common passwords of the bundled list, in any case', () => {
    for (const common of ['password', 'PASSWORD1', 'qwertyuiop', '12345678', 'Football']) {
      expect(passwordProblem(common, 'someone')).toMatch(/most commonly used/);
    }
  });

  it('refuses absurdly long passwords before hashing them', () => {
    expect(passwordProblem('x'.repeat(MAX_PASSWORD_LENGTH + 1), 'a')).toMatch(/at most/);
  });
});

describe('PasswordService', () => {
  const service = new PasswordService();

  it('hashes with argon2id and verifies only the right password', async () => {
    const stored = await service.hash('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=65536,t=3,p=1\$/);
    expect(await service.verify(stored, 'correct horse battery staple')).toBe(true);
    expect(await service.verify(stored, 'correct horse battery stapler')).toBe(false);
  });

  it('answers false, not an error, for an account without a password or a broken hash', async () => {
    expect(await service.verify(null, 'anything at all')).toBe(false);
    expect(await service.verify('not-a-hash', 'anything at all')).toBe(false);
  });
});
