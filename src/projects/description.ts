import MarkdownIt from 'markdown-it';
import { escapeHtml } from '../index-api/simple.render.js';

/**
 * markdown-it with raw HTML off: any tag in the description is shown as text, and its link
 * validator drops `javascript:`, `vbscript:`, `file:` and non-image `data:` URLs — so no
 * script survives, without a separate sanitiser.
 */
const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

// Links in a package description lead off-site: no referrer, no opener.
const defaultLink =
  markdown.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
markdown.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet('rel', 'nofollow noopener noreferrer');
  return defaultLink(tokens, idx, options, env, self);
};

/** The long description as safe HTML, by its `Description-Content-Type` (core metadata). */
export function renderDescription(text: string | null, contentType: string | null): string {
  if (!text) return '';
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'text/markdown') return markdown.render(text);
  // reStructuredText (PyPI's default when no type is given) has no faithful JavaScript
  // renderer: it is shown as preformatted text, escaped, rather than rendered wrongly.
  return `<pre class="description">${escapeHtml(text)}</pre>`;
}
