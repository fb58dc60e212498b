// An email's HTML made safe to show (decision 014): an allowlist of formatting tags and attributes, inline styles
// limited to layout and colour with no url() or other function but colours, images only as data: URIs, links only to
// http(s)/mailto opening in a new tab without opener or referrer. Everything else (scripts, event handlers, forms,
// frames, SVG, remote or same-origin images, style sheets, meta refresh, base) is dropped. Done on display, never
// stored: the HTML is kept as received, so a stricter rule applies to old mail too.
import { createRequire } from 'node:module';
import type sanitizeHtml from 'sanitize-html';

// sanitize-html is loaded by the first email shown, not at start (decision 035); required, so callers stay synchronous.
const require = createRequire(import.meta.url);
let loaded: typeof sanitizeHtml | undefined;
const sanitizer = (): typeof sanitizeHtml => (loaded ??= require('sanitize-html') as typeof sanitizeHtml);

const words = (s: string) => s.trim().split(/\s+/);

const TAGS = words(`a abbr address article b bdi bdo blockquote br caption center cite code col colgroup dd del dfn div
  dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6 header hr i img ins kbd li main mark ol p pre q s samp section
  small span strike strong sub sup table tbody td tfoot th thead time tr tt u ul var wbr`);

const CELL = ['align', 'valign', 'width', 'height', 'bgcolor', 'colspan', 'rowspan', 'nowrap'];
const ATTRIBUTES: sanitizeHtml.IOptions['allowedAttributes'] = {
  '*': ['style', 'title', 'dir', 'lang', 'align'],
  // target and rel are set by the link transform below, never taken from the message.
  a: ['href', 'name', 'target', 'rel'],
  img: ['src', 'alt', 'width', 'height'],
  font: ['color', 'size', 'face'],
  table: ['width', 'height', 'border', 'cellpadding', 'cellspacing', 'bgcolor', 'align'],
  col: ['span', 'width'],
  colgroup: ['span', 'width'],
  td: CELL,
  th: CELL,
  tr: ['align', 'valign', 'bgcolor'],
  ol: ['start', 'type'],
  time: ['datetime'],
};

/**
 * A CSS value made of words, numbers, units, #colours, quotes, commas and colour functions only. No other "(" can
 * appear, so no url(), image-set(), expression() or var(); no backslash, so no escape can spell one.
 */
const VALUE = /^(?:[-#a-z0-9.%'" ,!]|(?:rgba?|hsla?)\([\d.,%\s/]*\))+$/i;
const PROPERTIES = words(`color background-color font font-family font-size font-style font-weight font-variant
  text-align text-decoration text-transform text-indent letter-spacing word-spacing line-height white-space word-break
  overflow-wrap vertical-align direction width min-width max-width height min-height max-height margin margin-top
  margin-right margin-bottom margin-left padding padding-top padding-right padding-bottom padding-left border
  border-top border-right border-bottom border-left border-color border-style border-width border-radius
  border-collapse border-spacing table-layout list-style-type opacity`);
// display and visibility: only values that cannot lift content out of the message's box (no fixed or absolute position
// is allowed at all, so a message cannot cover Mailroom's own page or buttons).
const STYLES = {
  '*': {
    ...Object.fromEntries(PROPERTIES.map((p) => [p, [VALUE]])),
    display: [/^(?:none|block|inline|inline-block|table|table-row|table-cell|list-item)$/i],
    visibility: [/^(?:visible|hidden)$/i],
  },
};

/** Images only as data: URIs of raster types: no request leaves the browser, not even to Mailroom itself. */
const DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp);base64,[a-z0-9+/=\s]+$/i;
const LINK = /^(?:https?:\/\/|mailto:)/i;

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: TAGS,
  allowedAttributes: ATTRIBUTES,
  allowedStyles: STYLES,
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['data'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Text of these never shows: code, style sheets, the title, fallbacks of removed embeds (head is not listed: a
  // message without </head> would lose its body).
  nonTextTags: words(
    'script style textarea option xmp noscript noembed noframes title template iframe object svg math',
  ),
  transformTags: {
    // Relative links would point into Mailroom; fragment links have nothing to jump to here.
    a: (tagName, attribs) => {
      const { href = '', target: _target, rel: _rel, ...rest } = attribs;
      const link = href.trim();
      return {
        tagName,
        attribs: LINK.test(link) ? { ...rest, href: link, target: '_blank', rel: 'noopener noreferrer' } : rest,
      };
    },
    img: (tagName, attribs) => {
      const { src = '', ...rest } = attribs;
      return { tagName, attribs: DATA_IMAGE.test(src) ? { ...rest, src } : rest };
    },
  },
};

/** The HTML of an email, safe to put in the record's sandboxed frame. */
export function sanitizeEmailHtml(html: string): string {
  return sanitizer()(html, OPTIONS);
}

const BLOCKS = new Set(
  words(`address article blockquote br caption center dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr
    li main ol p pre section table tr ul`),
);

/** sanitize-html hands text over escaped for HTML (&, <, > and "); the text view wants it as it reads. */
const fromEscaped = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/**
 * An HTML-only email as plain text: the words of the body, a line break at each block, links' addresses after their
 * text. Nothing in it is HTML any more; the page escapes it like any other text.
 */
export function htmlToText(html: string): string {
  const out: string[] = [];
  const hrefs: (string | null)[] = [];
  sanitizer()(html, {
    allowedTags: [],
    allowedAttributes: {},
    nonTextTags: OPTIONS.nonTextTags,
    onOpenTag: (tag, attribs) => {
      if (BLOCKS.has(tag)) out.push('\n');
      if (tag === 'td' || tag === 'th') out.push('\t');
      if (tag === 'li') out.push('• ');
      if (tag === 'a') hrefs.push(attribs.href && LINK.test(attribs.href.trim()) ? attribs.href.trim() : null);
    },
    onCloseTag: (tag) => {
      if (tag === 'a') {
        const href = hrefs.pop();
        if (href && !out.at(-1)?.includes(href)) out.push(` <${href}>`);
      }
      if (BLOCKS.has(tag) && tag !== 'br' && tag !== 'hr') out.push('\n'); // void: one break, on open
    },
    textFilter: (text) => {
      out.push(fromEscaped(text).replace(/\s+/g, ' '));
      return '';
    },
  });
  return out
    .join('')
    .replace(/[ \t]*\n[ \t]*/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
