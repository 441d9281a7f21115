import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HTML_LIMIT, TEXT_LIMIT, htmlToText, newPartOf, readBody, safeFileName, tidy } from '../../src/domain/mail/content.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/email/reply-parser/${name}`, import.meta.url), 'utf8');

describe('email HTML becomes safe text', () => {
  it('drops scripts, styles, tracking images and markup, and decodes entities', () => {
    const html = `<html><head><style>p{color:red}</style><script>alert("x")</script></head><body>
      <p>Hello&nbsp;team &amp; friends,</p><p>The VPN drops every <b>5&nbsp;minutes</b> &lt;since Monday&gt;.</p>
      <img src="https://track.example/pixel.gif?id=42" width="1" height="1"><ul><li>Laptop</li><li>Café Wi‑Fi</li></ul>
      <!-- hidden --></body></html>`;
    const text = htmlToText(html);
    expect(text).toBe('Hello team & friends,\n\nThe VPN drops every 5 minutes <since Monday>.\n\n• Laptop\n• Café Wi‑Fi');
    expect(text).not.toMatch(/alert|color:red|pixel|hidden/);
  });

  it('decodes entities once: an escaped entity stays as the text the sender typed', () => {
    expect(htmlToText('<p>Type &amp;lt;br&amp;gt; for a break &amp;amp; more</p>')).toBe('Type &lt;br&gt; for a break &amp; more');
  });

  it('keeps non-ASCII text intact', () => {
    expect(htmlToText('<div>Grüße aus Zürich — 東京 ✓ &#128512;</div>')).toBe('Grüße aus Zürich — 東京 ✓ 😀');
  });
});

describe('email HTML keeps its structure as text', () => {
  it('keeps links as "text (address)", unless the text is the address', () => {
    const html = '<p>See the <a href="https://status.contoso.example/incidents/7">status page</a> or write to <a href="mailto:help@contoso.example">help@contoso.example</a>: <a href="https://contoso.example/">https://contoso.example</a><a href="https://track.example/o"><img src="x.gif"></a></p>';
    expect(htmlToText(html)).toBe('See the status page (https://status.contoso.example/incidents/7) or write to help@contoso.example: https://contoso.example');
  });

  it('numbers ordered lists, indents nested ones, and breaks lines at <br> and blocks', () => {
    const html = '<div>Steps:</div><ol start="3"><li>Restart</li><li>Sign in<ul><li>with MFA</li></ul></li></ol><div>Line one<br>Line two</div><div><br></div><div>After a gap</div><table><tr><td>Name</td><td>Anna</td></tr></table>';
    expect(htmlToText(html)).toBe('Steps:\n\n3. Restart\n4. Sign in\n  • with MFA\n\nLine one\nLine two\n\nAfter a gap\n\nName Anna');
  });

  it('drops hidden content: display:none, visibility:hidden, mso-hide:all and the hidden attribute', () => {
    const html = '<p>Visible</p><div style="display: none">preheader</div><span style="mso-hide:all">outlook only</span><p hidden>gone</p><p style="VISIBILITY:hidden">also gone</p><p>End</p>';
    expect(htmlToText(html)).toBe('Visible\n\nEnd');
  });

  it('keeps preformatted text line by line', () => {
    expect(htmlToText('<p>Log:</p><pre>line 1\n  line 2\n</pre><p>done</p>')).toBe('Log:\n\nline 1\n  line 2\n\ndone');
  });

  it.each([
    ['Gmail', '<div dir="ltr">Fixed, thanks</div><div class="gmail_quote gmail_quote_container"><div class="gmail_attr">On Mon, Aug 26, 2019 at 4:37 PM Support &lt;s@contoso.example&gt; wrote:<br></div><blockquote class="gmail_quote">old text</blockquote></div>'],
    ['Outlook desktop', '<p class="MsoNormal">Fixed, thanks<o:p></o:p></p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>From:</b> Support<br><b>Sent:</b> Monday</p></div><p class="MsoNormal">old text</p>'],
    ['Outlook on the web', '<div>Fixed, thanks</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg"><b>From:</b> Support<br><b>Sent:</b> Monday</div><div>old text</div>'],
    ['Apple Mail', '<div dir="ltr">Fixed, thanks</div><div dir="ltr"><br><blockquote type="cite">On 26 Aug 2019, at 16:37, Support wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">old text</div></blockquote>'],
    ['Thunderbird', '<p>Fixed, thanks</p><div class="moz-cite-prefix">On 26/08/2019 16:37, Support wrote:<br></div><blockquote type="cite">old text</blockquote>'],
    ['Yahoo', '<div class="yahoo-style-wrap">Fixed, thanks</div><div id="yahoo_quoted_1" class="yahoo_quoted"><div>On Monday, August 26, 2019, Support wrote:</div><div>old text</div></div>'],
  ])('recognises the quote container %s writes, by structure', (_client, html) => {
    const text = htmlToText(html);
    expect(text).toContain('old text');
    expect(newPartOf(text)).toBe('Fixed, thanks');
  });

  it('marks signature containers with the "-- " delimiter so the signature leaves the new part', () => {
    const html = '<div>Fixed, thanks</div><div class="gmail_signature"><div>Anna Lee | Fabrikam | +1 555 0100</div></div>';
    expect(htmlToText(html)).toBe('Fixed, thanks\n--\nAnna Lee | Fabrikam | +1 555 0100');
    expect(newPartOf(htmlToText(html))).toBe('Fixed, thanks');
  });

  it('reads a body of any shape without throwing: unclosed tags, stray closers, lone "<", broken entities', () => {
    expect(htmlToText('<div><p>Hi <b>there</div></span></p> 3 < 4 && 5 > 2 &bogus; &#xZZ; <')).toBe('Hi there\n\n3 < 4 && 5 > 2 &bogus; &#xZZ; <');
    expect(htmlToText('')).toBe('');
  });
});

describe('tidy', () => {
  it('turns CRLF and CR into LF, collapses space runs and blank-line runs, keeps indentation, trims the ends', () => {
    expect(tidy('  Hello\r\n\r\n\r\n\r\nworld  \t and\rmore \n    indented  code\n\n')).toBe('Hello\n\nworld and\nmore\n    indented code');
  });

  it('wraps a line longer than 16 K characters instead of keeping it whole', () => {
    const lines = tidy(`${'word '.repeat(8_000)}end`).split('\n');
    expect(lines.length).toBeGreaterThan(2);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(16 * 1024);
    expect(lines.join(' ')).toBe(`${'word '.repeat(8_000)}end`);
  });
});

describe('the new part of a reply', () => {
  it('cuts Gmail and Apple Mail quotes ("On … wrote:")', () => {
    expect(newPartOf(fixture('email_1_3.txt'))).toBe('Oh thanks.\n\nHaving the function would be great.\n\n-Abhishek Kona');
    const greedy = newPartOf(fixture('greedy_on.txt'));
    expect(greedy).toContain('telnet 127.0.0.1 52698');
    expect(greedy).not.toContain('George Plymale');
    const notOn = newPartOf(fixture('email_one_is_not_on.txt'));
    expect(notOn).toContain('Locally (on development), when I run...');
    expect(notOn).not.toContain('Dave Tapley');
  });

  it('keeps an answer written between the quotes, without the quotes', () => {
    const text = newPartOf(fixture('email_1_2.txt'));
    expect(text).toContain('You can list the keys for the bucket and call delete for each.');
    expect(text).not.toContain('What is the best way to clear a Riak bucket');
  });

  it("cuts Outlook's From:/Sent: block and the rule above it", () => {
    expect(newPartOf(fixture('email_2_1.txt'))).toBe('Outlook with a reply');
  });

  it('cuts signatures and mobile footers, but not a "--" inside a line', () => {
    expect(newPartOf(fixture('correct_sig.txt'))).toBe('this is an email with a correct -- signature.');
    expect(newPartOf(fixture('email_iPhone.txt'))).toBe('Here is another email');
    expect(newPartOf(fixture('email_BlackBerry.txt'))).toBe('Here is another email');
    expect(newPartOf(fixture('email_sig_delimiter_in_middle_of_line.txt'))).toContain('kthxbai');
    expect(newPartOf(fixture('email_1_5.txt'))).toContain('This is the fourth bullet point');
  });

  it('cuts an Outlook HTML reply at its divRplyFwdMsg block', () => {
    const html = '<div>Thanks, that fixed it!</div><div id="divRplyFwdMsg"><b>From:</b> Support<br><b>Sent:</b> Monday</div><div>old text</div>';
    expect(newPartOf(htmlToText(html))).toBe('Thanks, that fixed it!');
  });

  it('falls back to the whole text when everything is quoted', () => {
    expect(newPartOf('> only a quote\n> here')).toBe('> only a quote\n> here');
  });
});

describe('the new part of a reply, in every common language', () => {
  const history = '\n\n> Hello,\n> your ticket was updated.\n';
  it.each([
    ['Dutch', 'Op ma 26 aug. 2019 om 16:37 schreef Support <s@contoso.example>:'],
    ['Danish', 'Den man. 26. aug. 2019 kl. 16.37 skrev Support <s@contoso.example>:'],
    ['Hungarian', 'Support <s@contoso.example> ezt írta (időpont: 2019. aug. 26.,\nH, 16:37):'],
    ['Czech', 'po 26. 8. 2019 v 16:37 odesílatel Support <s@contoso.example>\nnapsal:'],
    ['Polish', 'pon., 26 sie 2019 o 16:37 Support <s@contoso.example>\nnapisał(a):'],
    ['Russian', 'пн, 26 авг. 2019 г. в 16:37, Support <s@contoso.example>:'],
    ['Japanese', '2019年8月26日(月) 16:37 Support <s@contoso.example>:'],
    ['Chinese', 'Support <s@contoso.example> 于2019年8月26日周一 下午4:37写道：'],
  ])('cuts a %s attribution line, wrapped or not', (_language, attribution) => {
    expect(newPartOf(tidy(`It works again.\n\n${attribution}${history}`))).toBe('It works again.');
  });

  it.each([
    ['German', 'Von: Support <s@contoso.example>\nGesendet: Montag, 26. August 2019 16:37\nAn: Anna\nBetreff: AW: Drucker'],
    ['Swedish', 'Från: Support <s@contoso.example>\nSkickat: den 26 augusti 2019 16:37\nTill: Anna\nÄmne: SV: Skrivare'],
    ['Finnish', 'Lähettäjä: Support <s@contoso.example>\nLähetetty: maanantai 26. elokuuta 2019 16.37\nVastaanottaja: Anna'],
    ['English, wrapped sender and mailto', 'From: Support Team\n[mailto:s@contoso.example] \nSent: Monday, August 26, 2019 4:37 PM\nTo: Anna'],
  ])("cuts Outlook's %s header block", (_language, block) => {
    expect(newPartOf(tidy(`It works again.\n\n${block}\n\nHello,\nyour ticket was updated.`))).toBe('It works again.');
  });

  it('keeps lines that only look like headers: "From:" prose, a time and a colon without an address', () => {
    const text = 'On Monday I will be out of office.\nFrom: the team at the front desk, who say hello.\nThe wifi drops on floor 2 at 10:30:\nevery day.';
    expect(newPartOf(text)).toBe(text);
  });

  it('cuts an attribution without a date when quoted lines follow it at once', () => {
    expect(newPartOf('Worked, thanks!\n\nOn Monday, Support wrote:\n> Please reset your password')).toBe('Worked, thanks!');
    expect(newPartOf('As my colleague wrote:\nit is fixed.')).toBe('As my colleague wrote:\nit is fixed.');
  });

  it('keeps the writer text above an attribution even when that text has a time in it', () => {
    expect(newPartOf('It failed again at 10:30 and\nOn Mon, Aug 26, 2019 at 4:37 PM Support <s@contoso.example> wrote:\n> old')).toBe('It failed again at 10:30 and');
  });
});

describe('readBody: the chunked, bounded reader', () => {
  it('gives the same text and new part as the synchronous functions', async () => {
    const html = '<div>Fixed, thanks</div><div class="gmail_quote"><div>On Mon, Aug 26, 2019 at 4:37 PM Support wrote:</div><blockquote>old text</blockquote></div>';
    expect(await readBody({ type: 'html', content: html })).toEqual({ text: htmlToText(html), newPart: 'Fixed, thanks', truncated: false });
    const plain = 'Fixed\r\n\r\nOn Mon, Aug 26, 2019 at 4:37 PM Support wrote:\r\n> old\r\n';
    expect(await readBody({ type: 'text', content: plain })).toEqual({ text: tidy(plain), newPart: 'Fixed', truncated: false });
  });

  it('reads only the documented first part of an oversized body and says so', async () => {
    const text = await readBody({ type: 'text', content: `Start\n${'x'.repeat(TEXT_LIMIT)}` });
    expect(text.truncated).toBe(true);
    expect(text.text.replace(/\n/g, '').length).toBeLessThanOrEqual(TEXT_LIMIT); // tidy wraps the long line
    expect(text.newPart.startsWith('Start')).toBe(true);
    const html = await readBody({ type: 'html', content: `<p>Start</p>${'<p>filler text</p>'.repeat(HTML_LIMIT / 18 + 1)}<p>END</p>` });
    expect(html.truncated).toBe(true);
    expect(html.text.startsWith('Start')).toBe(true);
    expect(html.text).not.toContain('END');
  });
});

describe('attachment file names', () => {
  it('loses directories, reserved characters and leading dots, keeps the extension', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('C:\\Users\\x\\report?.pdf')).toBe('report_.pdf');
    expect(safeFileName('.htaccess')).toBe('htaccess');
    expect(safeFileName('CON.txt')).toBe('_CON.txt');
    expect(safeFileName('')).toBe('attachment');
    expect(safeFileName(`${'a'.repeat(300)}.xlsx`)).toMatch(/^a{115}\.xlsx$/);
    expect(safeFileName('Übersicht März.pdf')).toBe('Übersicht März.pdf');
  });
});
