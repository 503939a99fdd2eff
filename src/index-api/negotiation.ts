/** PEP 691 content types of the simple API. */
export const SIMPLE_JSON = 'application/vnd.pypi.simple.v1+json';
export const SIMPLE_HTML = 'application/vnd.pypi.simple.v1+html';
export const TEXT_HTML = 'text/html';

export type SimpleContentType = typeof SIMPLE_JSON | typeof SIMPLE_HTML | typeof TEXT_HTML;

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  for (const part of header.split(',')) {
    const [media, ...params] = part.trim().split(';');
    const [type, subtype] = media.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split('=');
      if (key?.trim().toLowerCase() === 'q') {
        const parsed = Number(value?.trim());
        // RFC 9110: 0–1, at most three decimals; a malformed q drops the range.
        q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value?.trim() ?? '') ? parsed : -1;
      }
    }
    if (q >= 0) ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** The q a header gives `type/subtype`: the most specific matching range decides (RFC 9110). */
function quality(ranges: Range[], offer: string): number {
  const [type, subtype] = offer.split('/');
  let best = -1;
  let specificity = -1;
  for (const range of ranges) {
    let s = -1;
    if (range.type === type && range.subtype === subtype) s = 2;
    else if (range.type === type && range.subtype === '*') s = 1;
    else if (range.type === '*' && range.subtype === '*') s = 0;
    if (s > specificity) {
      specificity = s;
      best = range.q;
    }
  }
  return best;
}

/**
 * PEP 691 content negotiation, as Warehouse does it: highest q wins; ties go to the earlier
 * offer (`text/html` first, so `*` and browsers get HTML); `q=0` excludes; `latest` versions
 * map to v1; nothing acceptable → `text/html` (Warehouse's fallback rather than 406).
 */
export function chooseSimpleContentType(accept: string | undefined): SimpleContentType {
  const ranges = parseAccept(accept && accept.trim() ? accept : '*/*').map((r) => ({
    ...r,
    subtype: r.subtype.replace(/^vnd\.pypi\.simple\.latest\+/, 'vnd.pypi.simple.v1+'),
  }));
  let chosen: SimpleContentType = TEXT_HTML;
  let bestQ = 0;
  for (const offer of [TEXT_HTML, SIMPLE_HTML, SIMPLE_JSON] as const) {
    const q = quality(ranges, offer);
    if (q > bestQ) {
      bestQ = q;
      chosen = offer;
    }
  }
  return chosen;
}
