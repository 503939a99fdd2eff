import { normalizeProjectName } from './token.service.js';

describe('normalizeProjectName', () => {
  it('follows PEP 503: runs of -_. become one -, lower case', () => {
    expect(normalizeProjectName('Acme__Widgets.-Core')).toBe('acme-widgets-core');
  });
});
