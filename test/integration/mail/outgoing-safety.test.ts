import { afterEach, describe, expect, it } from 'vitest';
import { enqueueMail } from '../../../src/store/mail.js';
import { composeEml } from '../../fakes/mail-message.js';
import { megan } from '../../support/activities.js';
import { startHarness, type Harness } from '../../support/harness.js';

// Outgoing mail end to end through the fake Graph: what a customer typed in a subject or name can't add
// a header or a recipient, on the MIME path (acknowledgements) or the Graph JSON path (agents' replies).

const SECRET = 'a1b2c3d4e5f6';

describe('a hostile email, end to end through the fake Graph', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
  });

  // A customer's client can put a line break anywhere in a decoded subject or name (RFC 2047 words
  // decode to any bytes); the acknowledgement (MIME) and the agent's reply (Graph JSON) must both
  // still go to that one customer, under a one-line subject.
  it('acknowledges and replies to one recipient under a one-line subject', async () => {
    h = await startHarness({ mail: true, env: { AGENT_IDS: megan.aadObjectId } });
    const mail = await h.graph.deliver(composeEml({ from: 'kim@fabrikam.example', fromName: 'Kim\r\nBcc: evil@attacker.example', subject: 'Help\r\nBcc: evil@attacker.example', text: 'x' }));
    await h.syncMail();
    const ticket = await h.service.database.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
    const [ack] = await h.graph.waitForSent(1, 8_000);
    expect(ack).toMatchObject({ via: 'mime', to: ['kim@fabrikam.example'], inReplyTo: mail.internetMessageId });
    expect(ack!.subject).toMatch(/^RE: Help Bcc: evil@attacker\.example \[INC-\d+\]$/);
    expect(ack!.headers.map((x) => x.name.toLowerCase())).not.toContain('bcc');

    await h.say(megan, `reply ${ticket.reference} We are on it.`);
    const [, reply] = await h.graph.waitForSent(2, 8_000);
    expect(reply).toMatchObject({ via: 'reply', to: ['kim@fabrikam.example'] });
    expect(reply!.subject).toBe(ack!.subject);
  });

  it.each([
    ['an acknowledgement (MIME)', 1],
    ['an agent reply (Graph JSON)', 0],
  ])('dead-letters %s to an address that is not one plain address at once, sending nothing', async (_, automatic) => {
    h = await startHarness({ mail: true, env: { MAIL_ACKNOWLEDGE: 'false' } });
    const mail = await h.graph.deliver(composeEml({ from: 'kim@fabrikam.example', subject: 'Printer', text: 'x' }));
    await h.syncMail();
    const db = h.service.database.db;
    const ticket = await db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
    const received = await db.selectFrom('mail_messages').select('id').where('internet_message_id', '=', mail.internetMessageId).executeTakeFirstOrThrow();
    await enqueueMail(db, { idempotency_key: 'hostile', ticket_id: ticket.id, kind: automatic ? 'acknowledgement' : 'reply', automatic, in_reply_to: received.id, to_address: 'kim@fabrikam.example, evil@attacker.example', to_name: 'Kim', subject: 'RE: Printer', body: 'x', token: SECRET, author_id: null, cc: null }, Date.now());
    h.service.mail!.sender.wake();
    await expect.poll(() => db.selectFrom('mail_outbox').select(['status', 'attempts', 'last_error']).executeTakeFirstOrThrow(), { timeout: 8_000 }).toMatchObject({ status: 'dead', attempts: 1, last_error: expect.stringMatching(/recipient address .* is not one plain email address/) });
    expect(h.graph.sent).toEqual([]);
    expect(h.graph.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(h.logs.lines.some((l) => /email refused/.test(l.msg))).toBe(true);
  });
});
