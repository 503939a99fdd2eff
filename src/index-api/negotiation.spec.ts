import { chooseSimpleContentType } from './negotiation.js';

describe('PEP 691 content negotiation', () => {
  it.each([
    [undefined, 'text/html'],
    ['', 'text/html'],
    ['text/plain', 'text/html'],
    ['*/*', 'text/html'],
    ['text/html', 'text/html'],
    ['application/vnd.pypi.simple.v1+html', 'application/vnd.pypi.simple.v1+html'],
    ['application/vnd.pypi.simple.v1+json', 'application/vnd.pypi.simple.v1+json'],
    ['application/vnd.pypi.simple.latest+json', 'application/vnd.pypi.simple.v1+json'],
    [
      'text/html, application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json',
      'text/html',
    ],
    [
      'text/html;q=0.01, application/vnd.pypi.simple.v1+html;q=0.2, application/vnd.pypi.simple.v1+json',
      'application/vnd.pypi.simple.v1+json',
    ],
    // pip ≥ 22.2
    [
      'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01',
      'application/vnd.pypi.simple.v1+json',
    ],
    // uv
    [
      'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01',
      'application/vnd.pypi.simple.v1+json',
    ],
    ['application/vnd.pypi.simple.v1+json;q=0, */*;q=0.5', 'text/html'],
    ['text/html;q=0, application/*;q=0.5', 'application/vnd.pypi.simple.v1+html'],
    ['application/vnd.pypi.simple.v1+json;q=abc', 'text/html'],
    ['APPLICATION/VND.PYPI.SIMPLE.V1+JSON', 'application/vnd.pypi.simple.v1+json'],
  ])('Accept %j → %s', (accept, expected) => {
    expect(chooseSimpleContentType(accept)).toBe(expected);
  });
});
