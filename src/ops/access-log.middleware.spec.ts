import { redactQuery } from './access-log.middleware.js';

describe('redactQuery', () => {
  it('hides capability parameters in logged URLs', () => {
    expect(redactQuery('/account/reset-password/confirm/?token=abc.def&x=1')).toBe(
      '/account/reset-password/confirm/?token=[redacted]&x=1',
    );
    expect(redactQuery('/simple/?page=2')).toBe('/simple/?page=2');
  });
});
