import { basicPassword } from './auth.guard.js';
import { roleAtLeast } from './auth.types.js';

const basic = (value: string) => `Basic ${Buffer.from(value).toString('base64')}`;

describe('basicPassword', () => {
  it('takes the password of HTTP Basic whatever the username', () => {
    expect(basicPassword(basic('__token__:larder-abc'))).toBe('larder-abc');
    expect(basicPassword(basic('someone:pa:ss'))).toBe('pa:ss');
    expect(basicPassword(basic(':only-password'))).toBe('only-password');
  });

  it('ignores other schemes and malformed headers', () => {
    expect(basicPassword(undefined)).toBeNull();
    expect(basicPassword('Bearer larder-abc')).toBeNull();
    expect(basicPassword(basic('no-colon'))).toBeNull();
    expect(basicPassword('Basic !!!')).toBeNull();
  });
});

describe('roleAtLeast', () => {
  it('orders Maintainer below Owner', () => {
    expect(roleAtLeast('Owner', 'Maintainer')).toBe(true);
    expect(roleAtLeast('Owner', 'Owner')).toBe(true);
    expect(roleAtLeast('Maintainer', 'Maintainer')).toBe(true);
    expect(roleAtLeast('Maintainer', 'Owner')).toBe(false);
    expect(roleAtLeast(null, 'Maintainer')).toBe(false);
  });
});
