import { describe, expect, it } from 'vitest';
import { HTML_LIMIT, TEXT_LIMIT, htmlToText, newPartOf, readBody, tidy, type MailBody } from '../../src/domain/mail/content.js';
import { MAX_LOOKUPS, tokensIn } from '../../src/domain/mail/threading.js';
import { longestStall } from '../support/event-loop.js';

// Issue 15: nothing in mail parsing is worse than linear, and reading a body never holds the event
// loop (and with it every chat turn) for long. Each pathological input is read through readBody while
// a 1 ms timer measures the longest stall: the gap between its ticks, but no more than the CPU time
// the process used meanwhile (a tick that comes late because a busy machine did not schedule the
// process at all is not our code holding the loop).
//
// Measured on the 2-core machine with other work running (load average 4): total 50-700 ms per case
// below, longest stall 9-30 ms. The quadratic code this replaced took tens of seconds on 1 MB of
// quoted lines, and a reader that did not yield would stall for its whole run (200-700 ms on the
// large cases). The bounds leave CI several times the measured time and still catch both.
const TOTAL_MAX_MS = 8_000;
const STALL_MAX_MS = 120;
const MB = 1024 * 1024;

async function timed(body: MailBody) {
  const { result, stallMs, totalMs } = await longestStall(() => readBody(body), 1);
  return { result, ms: totalMs, stallMs };
}

const quotedHistory = (bytes: number) => `Thanks, that fixed it.\n\nOn Mon, Aug 26, 2019 at 4:37 PM Support <s@contoso.example> wrote:\n${'> a quoted line of the earlier message, as clients write it\n'.repeat(bytes / 60)}`;

describe('mail parsing bounds', () => {
  it('reads 1 MB of quoted lines in linear time, without a long stall, and finds the new part', async () => {
    const { result, ms, stallMs } = await timed({ type: 'text', content: quotedHistory(MB) });
    expect(result.newPart).toBe('Thanks, that fixed it.');
    expect(ms).toBeLessThan(TOTAL_MAX_MS);
    expect(stallMs).toBeLessThan(STALL_MAX_MS);
  });

  it('reads 1 MB of quotes answered in between (the writer’s lines kept) in linear time', async () => {
    const block = `${'> earlier text\n'.repeat(40)}my answer\n`;
    const { result, ms, stallMs } = await timed({ type: 'text', content: block.repeat(MB / block.length) });
    expect(result.newPart.split('\n').every((l) => l === 'my answer' || l === '')).toBe(true);
    expect(ms).toBeLessThan(TOTAL_MAX_MS);
    expect(stallMs).toBeLessThan(STALL_MAX_MS);
  });

  it('reads a 1 MB line of "On On On …" (quadratic for backtracking attribution patterns) quickly', async () => {
    const { result, ms, stallMs } = await timed({ type: 'text', content: 'On '.repeat(MB / 3) });
    expect(result.newPart.length).toBeGreaterThan(MB / 2);
    expect(ms).toBeLessThan(TOTAL_MAX_MS);
    expect(stallMs).toBeLessThan(STALL_MAX_MS);
  });

  it('reads 1 MB of "<" as HTML and as text', async () => {
    for (const type of ['html', 'text'] as const) {
      const { result, ms, stallMs } = await timed({ type, content: '<'.repeat(MB) });
      expect(result.text.replace(/\n/g, '').length, type).toBe(MB);
      expect(ms, type).toBeLessThan(TOTAL_MAX_MS);
      expect(stallMs, type).toBeLessThan(STALL_MAX_MS);
    }
  });

  it('reads 10,000 nested blockquotes without overflowing the stack, the innermost text kept as quoted', async () => {
    const html = `<p>My answer</p>${'<blockquote>'.repeat(10_000)}deep history${'</blockquote>'.repeat(10_000)}`;
    const { result, ms, stallMs } = await timed({ type: 'html', content: html });
    expect(result.text).toMatch(/^My answer\n\n(> )+deep history$/);
    expect(result.newPart).toBe('My answer');
    expect(ms).toBeLessThan(TOTAL_MAX_MS);
    expect(stallMs).toBeLessThan(STALL_MAX_MS);
    expect(htmlToText(`${'<div>'.repeat(50_000)}x`)).toBe('x');
  });

  it('reads 1,000,000 unclosed nested tags (past the parser restart depth) in linear time', async () => {
    const { result, ms, stallMs } = await timed({ type: 'html', content: `${'<b>'.repeat(1_000_000)}the end` });
    expect(result.text).toBe('the end');
    expect(ms).toBeLessThan(TOTAL_MAX_MS);
    expect(stallMs).toBeLessThan(STALL_MAX_MS);
  });

  it('reads a 5 MB HTML body in slices, keeping the first TEXT_LIMIT characters of text', async () => {
    const paragraph = '<p>Hello <b>team</b>, the <a href="https://vpn.contoso.example/status">VPN</a> drops &amp; reconnects.</p>\n';
    const html = paragraph.repeat((5 * MB) / paragraph.length);
    expect(html.length).toBeLessThan(HTML_LIMIT);
    const { result, ms, stallMs } = await timed({ type: 'html', content: html });
    expect(result.text.startsWith('Hello team, the VPN (https://vpn.contoso.example/status) drops & reconnects.\n\nHello team')).toBe(true);
    expect(result.text.length).toBeLessThanOrEqual(TEXT_LIMIT);
    expect(result.truncated).toBe(true);
    expect(ms).toBeLessThan(TOTAL_MAX_MS);
    expect(stallMs).toBeLessThan(STALL_MAX_MS);
  });

  it('keeps the synchronous functions linear too (what intake calls today)', () => {
    const start = performance.now();
    expect(newPartOf(tidy(quotedHistory(MB)))).toBe('Thanks, that fixed it.');
    expect(newPartOf(tidy(`${'From: x\nSent: y\n'.repeat(MB / 16)}`)).length).toBeGreaterThan(0);
    expect(htmlToText('<'.repeat(MB)).replace(/\n/g, '').length).toBe(MB);
    expect(performance.now() - start).toBeLessThan(TOTAL_MAX_MS);
  });

  it('finds thousands of [sd:…] tokens in linear time, and hands on only the first few to look up (tokensIn, threading.ts)', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `[sd:${i}:abcdef012345]`).join(' reply text ');
    let start = performance.now();
    expect(tokensIn(many)).toHaveLength(MAX_LOOKUPS);
    expect(performance.now() - start).toBeLessThan(2_000);
    start = performance.now();
    expect(tokensIn('[sd:1:'.repeat(MB / 6))).toEqual([]);
    expect(tokensIn(`[sd:${'9'.repeat(MB)}:abcdef012345]`)).toEqual([]);
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});
