import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeEml } from '../../fakes/mail-message.js';
import { alex } from '../../support/activities.js';
import { longestStall } from '../../support/event-loop.js';
import { startHarness, type Harness } from '../../support/harness.js';

/**
 * Mail nobody would write by hand, through the whole service: each is filed as a ticket (or a reply)
 * with its original kept, and while it is read chat turns go on (see longestStall in
 * test/support/event-loop.ts; the fake Graph serving the message runs in this process too).
 */

const MB = 1024 * 1024;

const CASES: Array<{ name: string; mail: () => Parameters<typeof composeEml>[0] }> = [
  { name: '1 MB of quoted lines', mail: () => ({ from: 'a@fabrikam.example', subject: 'Quoted megabyte', text: `My answer is on top.\n\nOn Monday, Support wrote:\n${'> an old line of the thread, quoted once more\n'.repeat(MB / 46)}` }) },
  { name: '1 MB of "<"', mail: () => ({ from: 'b@fabrikam.example', subject: 'Angle brackets', html: `<p>Broken markup follows</p>${'<'.repeat(MB)}` }) },
  { name: '10,000 nested blockquotes', mail: () => ({ from: 'c@fabrikam.example', subject: 'Nested quotes', html: `<p>New words</p>${'<blockquote>'.repeat(10_000)}deep${'</blockquote>'.repeat(10_000)}` }) },
  { name: 'a 5 MB HTML body', mail: () => ({ from: 'd@fabrikam.example', subject: 'Five megabytes', html: `<div>Top line</div>${'<p>A paragraph of a very long newsletter-like email, <b>bold</b> and <a href="https://x.example/">a link</a>.</p>'.repeat((5 * MB) / 110)}` }) },
  { name: 'thousands of [sd:…] tokens', mail: () => ({ from: 'e@fabrikam.example', subject: 'Tokens', text: `Hello\n${Array.from({ length: 20_000 }, (_, i) => `[sd:${i}:0123456789ab]`).join(' ')}` }) },
];

describe('pathological mail through the service', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mail: true });
    await h.install(alex);
  });
  afterAll(() => h.stop());

  it.each(CASES)('files $name without holding chat turns', async ({ mail }) => {
    const eml = composeEml(mail());
    const delivered = await h.graph.deliver(eml);
    const { stallMs, totalMs } = await longestStall(() => h.syncMail());
    const row = await h.service.database.db.selectFrom('mail_messages').selectAll().where('internet_message_id', '=', delivered.internetMessageId).executeTakeFirstOrThrow();
    expect(row.disposition).toBe('ticket');
    // The original is kept whole, whatever was read of it.
    expect(row.body!.length).toBe((delivered.body.content ?? '').length);
    const ticket = await h.service.database.db.selectFrom('tickets').selectAll().where('id', '=', row.ticket_id!).executeTakeFirstOrThrow();
    expect(ticket.description.length).toBeLessThanOrEqual(8_000);
    // Measured at 5-65 ms here; the old reader held the loop for seconds on these.
    expect(stallMs).toBeLessThan(250);
    expect(totalMs).toBeLessThan(30_000);
  });
});
