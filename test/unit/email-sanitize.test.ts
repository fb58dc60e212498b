// The email HTML sanitizer (emails/sanitize.ts) against a corpus of hostile HTML: scripts, event handlers, javascript:
// and data: URLs, remote and same-origin images (src, srcset, background, CSS url()), style sheets, meta refresh, base,
// frames, forms, SVG and MathML tricks, CSS escapes. What is kept must still read like the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { htmlToText, sanitizeEmailHtml } from '../../src/emails/sanitize.ts';

const T = 'http://tracker.test';

/** [what it tries, input]. None of the outputs may contain any of BANNED. */
const CORPUS: [string, string][] = [
  ['script element', `<script>alert(1)</script><script src="${T}/s.js"></script>`],
  ['script in odd case and broken nesting', `<ScRiPt>alert(1)</sCrIpT><scr<script>ipt>alert(1)</script>`],
  ['event handlers', `<img src=x onerror=alert(1)><body onload=alert(1)><div onmouseover="alert(1)">x</div>`],
  ['handler without quotes or space', `<img/src=x/onerror=alert(1)><svg/onload=alert(1)>`],
  ['javascript: links', `<a href="javascript:alert(1)">a</a><a href=" JaVaScRiPt:alert(1)">b</a>`],
  ['entity-encoded javascript:', `<a href="&#106;avascript:alert(1)">c</a><a href="java&#x09;script:alert(1)">d</a>`],
  [
    'vbscript and data links',
    `<a href="vbscript:msgbox(1)">e</a><a href="data:text/html,<script>alert(1)</script>">f</a>`,
  ],
  ['remote image', `<img src="${T}/pixel.gif"><IMG SRC="${T}/PIXEL.GIF">`],
  ['protocol-relative and same-origin images', `<img src="//tracker.test/p.gif"><img src="/logout"><img src="p.gif">`],
  ['srcset and picture', `<img srcset="${T}/a.png 1x, ${T}/b.png 2x"><picture><source srcset="${T}/c.webp"></picture>`],
  [
    'background attributes',
    `<body background="${T}/b.png"><table background="${T}/t.png"><td background="${T}/d.png">`,
  ],
  [
    'CSS url() in style attributes',
    `<p style="background:url(${T}/p.png)">x</p><p style="background-image: url('${T}/q')">y</p>`,
  ],
  ['CSS escapes spelling url(', `<p style="color: u\\72l(${T}/e)">x</p><p style="background:\\75rl(${T}/f)">y</p>`],
  [
    'CSS expression and behavior',
    `<p style="width:expression(alert(1))">x</p><p style="behavior:url(${T}/x.htc)">y</p>`,
  ],
  [
    'CSS image-set, var and @import',
    `<p style="background:image-set('${T}/i.png' 1x)">x</p><style>@import '${T}/i.css';</style>`,
  ],
  ['style sheets', `<link rel="stylesheet" href="${T}/s.css"><style>body{background:url(${T}/s.png)}</style>`],
  ['meta refresh and base', `<meta http-equiv="refresh" content="0;url=${T}/r"><base href="${T}/">`],
  [
    'frames and embeds',
    `<iframe src="${T}/f"></iframe><frame src="${T}/g"><object data="${T}/o"></object><embed src="${T}/e">`,
  ],
  ['iframe srcdoc', `<iframe srcdoc="<script>alert(1)</script>"></iframe>`],
  [
    'forms',
    `<form action="${T}/f"><input name="password"><input type="image" src="${T}/i.png"><button formaction="${T}/b">Go</button></form>`,
  ],
  [
    'media',
    `<video poster="${T}/p.png" src="${T}/v.mp4"></video><audio src="${T}/a.mp3"></audio><track src="${T}/t.vtt">`,
  ],
  [
    'SVG with script, image and animation',
    `<svg><script>alert(1)</script><image href="${T}/i.png"/><a xlink:href="javascript:alert(1)"><animate attributeName="href" to="javascript:alert(1)"/></a></svg>`,
  ],
  ['SVG foreignObject', `<svg><foreignObject><img src="${T}/fo.png"></foreignObject></svg>`],
  ['MathML', `<math><mtext><table><mglyph><style><img src="${T}/m.png" onerror=alert(1)>`],
  ['noscript and template mutation', `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`],
  ['comments and CDATA', `<!--<img src="${T}/c.png">--><![CDATA[<img src="${T}/d.png">]]>`],
  ['details ontoggle and marquee', `<details open ontoggle=alert(1)>x</details><marquee onstart=alert(1)>y</marquee>`],
  [
    'position fixed overlay',
    `<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999">Sign in again</div>`,
  ],
  ['data: image of SVG (can script)', `<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`],
];
const BANNED = [
  /<script/i,
  /\son\w+\s*=/i,
  /javascript:/i,
  /vbscript:/i,
  /tracker\.test/i,
  /url\s*\(/i,
  /expression\s*\(/i,
  /<(?:style|link|meta|base|iframe|frame|object|embed|form|input|button|video|audio|track|svg|math|image|animate|foreignobject|source)\b/i,
  /\ssrcset=/i,
  /\sbackground=/i,
  /position\s*:/i,
  /src="(?!data:image\/(?:png|gif|jpe?g|webp);)/i,
  /href="(?!https?:|mailto:)/i,
  /data:text/i,
  /image\/svg/i,
];

for (const [what, html] of CORPUS)
  test(`sanitizer drops it: ${what}`, () => {
    const out = sanitizeEmailHtml(html);
    for (const banned of BANNED) assert.doesNotMatch(out, banned, `${what} → ${out}`);
    const text = htmlToText(html);
    assert.doesNotMatch(text, /<script|alert\(1\)\s*<\/script>/i, `text view of ${what} → ${text}`);
  });

test('what a normal message needs is kept: formatting, tables, safe styles, links, inline data images', () => {
  const png =
    'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==';
  const out = sanitizeEmailHtml(
    `<h1 style="color:#036;font-size:20px">Invoice</h1><p>Dear <b>Ada</b> &amp; <i>team</i>,</p>` +
      `<table width="100%" cellpadding="4"><tr><td align="right" style="padding:4px;border:1px solid rgb(0, 0, 0)">42</td></tr></table>` +
      `<a href="https://example.com/pay?x=1&amp;y=2">Pay</a> <a href="mailto:billing@example.com">Mail us</a>` +
      `<img src="${png}" alt="logo" width="1">`,
  );
  assert.match(out, /<h1 style="color:#036;font-size:20px">Invoice<\/h1>/);
  assert.match(out, /<p>Dear <b>Ada<\/b> &amp; <i>team<\/i>,<\/p>/);
  assert.match(
    out,
    /<table width="100%" cellpadding="4"><tr><td align="right" style="padding:4px;border:1px solid rgb\(0, 0, 0\)">42<\/td><\/tr><\/table>/,
  );
  assert.match(
    out,
    /<a href="https:\/\/example.com\/pay\?x=1&amp;y=2" target="_blank" rel="noopener noreferrer">Pay<\/a>/,
  );
  assert.match(out, /<a href="mailto:billing@example.com" target="_blank" rel="noopener noreferrer">Mail us<\/a>/);
  assert.match(out, /<img alt="logo" width="1" src="data:image\/png;base64,[^"]+" \/>$/);
});

test('a message cannot set target or rel on its links, nor keep them on links it loses', () => {
  const out = sanitizeEmailHtml(
    '<a href="https://example.com" target="_self" rel="opener">x</a><a href="/local" target="_top" rel="opener">y</a>',
  );
  assert.equal(out, '<a href="https://example.com" target="_blank" rel="noopener noreferrer">x</a><a>y</a>');
});

test('HTML as plain text: words and line breaks, links after their text, no markup and nothing hidden shown', () => {
  const text = htmlToText(
    '<html><head><title>Secret title</title><style>p{color:red}</style></head><body>' +
      '<h1>Hello &amp; welcome</h1><p>Line one<br>Line two</p><ul><li>First</li><li>Second</li></ul>' +
      '<p>See <a href="https://example.com/x">our site</a> or <a href="https://example.com/y">https://example.com/y</a>.</p>' +
      '<script>var leaked = 1;</script><p>1 &lt; 2 &gt; 0 &quot;quoted&quot;</p></body></html>',
  );
  assert.equal(
    text,
    'Hello & welcome\n\nLine one\nLine two\n\n• First\n\n• Second\n\nSee our site <https://example.com/x> or https://example.com/y.\n\n1 < 2 > 0 "quoted"',
  );
});
