import { renderDescription } from './description.js';

describe('rendering a long description', () => {
  it('renders Markdown', () => {
    expect(
      renderDescription('# Title\n\n*hi* [x](https://example.org)', 'text/markdown; charset=UTF-8'),
    ).toBe(
      '<h1>Title</h1>\n<p><em>hi</em> <a href="https://example.org" rel="nofollow noopener noreferrer">x</a></p>\n',
    );
  });

  it.each([
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '[click](javascript:alert(1))',
    '[click](JAVASCRIPT:alert(1))',
    '![x](data:text/html;base64,PHNjcmlwdD4=)',
    '<a href="javascript:alert(1)">x</a>',
  ])('lets no script survive from %j', (input) => {
    const html = renderDescription(input, 'text/markdown');
    expect(html).not.toMatch(/<script|<img[^>]*onerror|href="javascript:|<a href="javascript/i);
  });

  it('shows reStructuredText and plain text escaped, preformatted', () => {
    expect(renderDescription('Title\n=====\n<script>x</script>', null)).toBe(
      '<pre class="description">Title\n=====\n&lt;script&gt;x&lt;/script&gt;</pre>',
    );
  });
});
