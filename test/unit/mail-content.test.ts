import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { htmlToText, newPartOf, safeFileName } from '../../src/domain/mail/content.js';

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
