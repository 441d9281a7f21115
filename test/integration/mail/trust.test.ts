import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeEml } from '../../fakes/mail-message.js';
import { adele, alex, channelMessage, CHANNEL_ID, megan } from '../../support/activities.js';
import { startHarness, type Harness } from '../../support/harness.js';

/**
 * Email is where outsiders reach the desk. A ticket reference in a subject is no proof of anything:
 * these tests are the stranger who types `[INC-n]`, the forged From line, and the flood of forged
 * senders that would turn acknowledgements into backscatter.
 */

const FORGED = 'spf=fail (sender IP is 198.51.100.66) smtp.mailfrom=contoso.example; dkim=none (message not signed) header.d=none;dmarc=fail action=quarantine header.from=contoso.example;compauth=fail reason=000';
const forgedFrom = (domain: string) => FORGED.replace(/contoso\.example/g, domain);

describe('who may write on a ticket by email', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ mail: true, env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId, MAIL_ACK_MAX_PER_HOUR_TOTAL: '1000' } });
    await h.install(alex, megan);
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
    await h.say(megan, 'help');
    await db().updateTable('people').set({ email: 'megan@contoso.example' }).where('aad_object_id', '=', megan.aadObjectId).execute();
  });
  afterAll(() => h.stop());

  const db = () => h.service.database.db;
  const timeline = (ticketId: number) => db().selectFrom('timeline_entries').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute();
  const mailRow = (messageId: string) => db().selectFrom('mail_messages').selectAll().where('internet_message_id', '=', messageId).executeTakeFirstOrThrow();
  const ticketOf = async (messageId: string) => db().selectFrom('tickets').selectAll().where('id', '=', (await mailRow(messageId)).ticket_id!).executeTakeFirstOrThrow();

  async function deliver(mail: Parameters<typeof composeEml>[0]) {
    const delivered = await h.graph.deliver(composeEml(mail));
    await h.syncMail();
    return delivered;
  }

  /** A customer's ticket (with a colleague in Cc) and our acknowledgement of it. */
  async function customerTicket(subject: string, from = 'dana@fabrikam.example') {
    const mail = await deliver({ from, fromName: 'Dana Ruiz', cc: ['frank@fabrikam.example'], subject, text: `About: ${subject}` });
    const ticket = await ticketOf(mail.internetMessageId);
    await expect.poll(() => h.graph.sent.some((s) => s.inReplyTo === mail.internetMessageId)).toBe(true);
    const ack = h.graph.sent.find((s) => s.inReplyTo === mail.internetMessageId)!;
    return { mail, ticket, ack };
  }

  it('opens a linked ticket of its own for a stranger who names a ticket, and says why on both', async () => {
    const { ticket } = await customerTicket('Password reset link expired');
    const before = await timeline(ticket.id);
    const stranger = await deliver({ from: 'mallory@evil.example', fromName: 'Dana Ruiz', subject: `RE: Password reset link expired [${ticket.reference}]`, text: 'Please send the new reset link to this address instead.' });

    const row = await mailRow(stranger.internetMessageId);
    expect(row.ticket_id).not.toBe(ticket.id);
    expect(row).toMatchObject({ disposition: 'ticket', reason: `untrusted-reference of #${ticket.id}` });
    const own = await ticketOf(stranger.internetMessageId);
    expect(own.requester_id).not.toBe(ticket.requester_id);
    // The named ticket gained no public reply, only an internal note saying what happened and why.
    const after = await timeline(ticket.id);
    expect(after.filter((e) => e.kind === 'reply')).toEqual(before.filter((e) => e.kind === 'reply'));
    const note = after.find((e) => e.kind === 'linked')!;
    expect(note).toMatchObject({ visibility: 'internal' });
    expect(note.body).toContain('mallory@evil.example is not on the ticket');
    expect(note.body).toContain(own.reference);
    const link = (await timeline(own.id)).find((e) => e.kind === 'linked')!;
    expect(link.body).toContain(`Named ${ticket.reference}`);
    expect(JSON.parse(link.data!)).toMatchObject({ ticketId: ticket.id, trusted: false });
    // Agents see why on the new ticket's card in the triage channel.
    await h.connector.waitFor((c) => c.conversationId === CHANNEL_ID && JSON.stringify(c.activity).includes(own.reference) && JSON.stringify(c.activity).includes('is not on the ticket'));

    // And the agent's next reply on the named ticket still goes to its requester (and the Cc'd colleague), not to the stranger who wrote last.
    await h.say(megan, `reply ${ticket.reference} Here is a fresh link: https://portal.example/reset/abc`);
    await expect.poll(() => h.graph.sent.some((s) => s.via === 'reply' && s.subject.includes(ticket.reference))).toBe(true);
    const reply = h.graph.sent.find((s) => s.via === 'reply' && s.subject.includes(ticket.reference))!;
    expect(reply.to).toEqual(['dana@fabrikam.example']);
    expect(reply.cc).toEqual(['frank@fabrikam.example']);
    expect(JSON.stringify(h.graph.sent.filter((s) => s.html?.includes('reset/abc')))).not.toContain('mallory');
  });

  it('lets a stranger in who holds our hidden token or answers our Message-ID, and they become participants', async () => {
    const { ticket, ack } = await customerTicket('Shared drive is read-only', 'ida@fabrikam.example');
    const token = /\[sd:\d+:[0-9a-f]{12}\]/.exec(ack.text ?? '')![0];
    // Dana forwarded our acknowledgement to IT, who answer from their own address.
    const it1 = await deliver({ from: 'it@fabrikam.example', subject: `FW: RE: Shared drive is read-only [${ticket.reference}]`, text: `We checked the ACLs.\n\n> ${token}` });
    expect(await mailRow(it1.internetMessageId)).toMatchObject({ ticket_id: ticket.id, disposition: 'reply' });
    const it2 = await deliver({ from: 'ops@fabrikam.example', subject: 'Re: read-only drive', text: 'Fixed on our side.', inReplyTo: ack.internetMessageId });
    expect(await mailRow(it2.internetMessageId)).toMatchObject({ ticket_id: ticket.id, disposition: 'reply', reason: 'message-id' });
    // Now on the thread, IT may write with just the reference.
    const it3 = await deliver({ from: 'it@fabrikam.example', subject: `Update [${ticket.reference}]`, text: 'All good now.' });
    expect(await mailRow(it3.internetMessageId)).toMatchObject({ ticket_id: ticket.id, reason: 'subject-reference' });
    const participants = await db().selectFrom('mail_participants').select('address').where('ticket_id', '=', ticket.id).orderBy('address').execute();
    expect(participants.map((p) => p.address)).toEqual(['frank@fabrikam.example', 'ida@fabrikam.example', 'it@fabrikam.example', 'ops@fabrikam.example']);
  });

  it('takes a participant without any reference by the conversation, and a Cc’d colleague by the reference', async () => {
    const { ticket } = await customerTicket('Monitor flickers', 'hank@fabrikam.example');
    const colleague = await deliver({ from: 'frank@fabrikam.example', subject: `Re: Monitor flickers [${ticket.reference}]`, text: 'Mine too.' });
    expect(await mailRow(colleague.internetMessageId)).toMatchObject({ ticket_id: ticket.id, disposition: 'reply', reason: 'subject-reference' });
    const bare = await deliver({ from: 'hank@fabrikam.example', subject: 'RE: Monitor flickers', text: 'Still flickering.' });
    expect(await mailRow(bare.internetMessageId)).toMatchObject({ ticket_id: ticket.id, reason: 'conversation-id' });
    // A stranger with the same subject is not taken in by the conversation either.
    const stranger = await deliver({ from: 'eve@elsewhere.example', subject: 'RE: Monitor flickers', text: 'Me three.' });
    // Nor linked to it: sharing a subject names no ticket.
    expect(await mailRow(stranger.internetMessageId)).toMatchObject({ disposition: 'ticket', reason: 'new' });
    expect((await mailRow(stranger.internetMessageId)).ticket_id).not.toBe(ticket.id);
  });

  it('takes the ticket whose mail a reply answers when its subject names another one the sender is not on', async () => {
    const other = await customerTicket('Badge reader broken', 'omar@fabrikam.example');
    const mine = await customerTicket('Parking permit', 'pia@fabrikam.example');
    const reply = await deliver({ from: 'pia@fabrikam.example', subject: `RE: Parking permit (like ${other.ticket.reference})`, text: 'Any news?', inReplyTo: mine.ack.internetMessageId });
    expect(await mailRow(reply.internetMessageId)).toMatchObject({ ticket_id: mine.ticket.id, disposition: 'reply', reason: 'message-id' });
    expect((await timeline(other.ticket.id)).filter((e) => e.kind === 'linked')).toEqual([]);
  });

  it('does not let a forged From line join a ticket, even the requester’s own address', async () => {
    const { ticket } = await customerTicket('Invoice address change', 'gina@fabrikam.example');
    const forged = await deliver({ from: 'gina@fabrikam.example', subject: `RE: Invoice address change [${ticket.reference}]`, text: 'Our new bank account is …', authentication: forgedFrom('fabrikam.example') });
    const row = await mailRow(forged.internetMessageId);
    expect(row.ticket_id).not.toBe(ticket.id);
    const note = (await timeline(ticket.id)).find((e) => e.kind === 'linked')!;
    expect(note.body).toContain('could not confirm that it comes from gina@fabrikam.example');
  });

  it('gives a forged agent no agent privileges, and the card says the sender is not verified', async () => {
    const text = 'Please handle.\n\n________________________________\nFrom: Ivan Petrov <ivan@northwind.example>\nSent: Monday, 3 March 2025 10:02\nTo: Megan Bowen <megan@contoso.example>\nSubject: Wire the refund today\n\nHi Megan, refund me.';
    const forged = await deliver({ from: 'megan@contoso.example', fromName: 'Megan Bowen', subject: 'FW: Wire the refund today', text, authentication: FORGED });
    const ticket = await ticketOf(forged.internetMessageId);
    // Not a forward-to-create on Ivan's behalf: the ticket is the (unverified) sender's own, as a requester.
    const requester = await db().selectFrom('people').selectAll().where('id', '=', ticket.requester_id).executeTakeFirstOrThrow();
    expect(requester.email).toBe('megan@contoso.example');
    const created = (await timeline(ticket.id)).find((e) => e.kind === 'created')!;
    expect(JSON.parse(created.data!).email).toMatchObject({ rule: 'new' });
    expect(JSON.parse(created.data!).email.senderCheck).toContain('not verified');
    expect((await mailRow(forged.internetMessageId)).sender_check).toContain('dmarc=fail');
    const [card] = await h.connector.waitFor((c) => c.conversationId === CHANNEL_ID && JSON.stringify(c.activity).includes(ticket.reference) && JSON.stringify(c.activity).includes('sender not verified'));
    // Not shown as Megan's own words either.
    expect(JSON.stringify(card!.activity)).toContain('Megan Bowen (sender not verified): ');
    // No acknowledgement to a forged address.
    expect(await db().selectFrom('mail_outbox').select('id').where('ticket_id', '=', ticket.id).execute()).toEqual([]);

    // The real Megan, confirmed by the receiving server, forwards as an agent.
    const real = await deliver({ from: 'megan@contoso.example', fromName: 'Megan Bowen', subject: 'FW: Refund for Ivan', text: text.replace('Please handle.', 'Real one.') });
    const forwarded = await ticketOf(real.internetMessageId);
    expect((await db().selectFrom('people').select('email').where('id', '=', forwarded.requester_id).executeTakeFirstOrThrow()).email).toBe('ivan@northwind.example');
  });

  it('flags a colleague’s address the server did not confirm, and trusts internal mail', async () => {
    const unconfirmed = await deliver({ from: 'ceo@contoso.example', subject: 'Urgent: gift cards', text: 'Buy them now.', authentication: null });
    const ticket = await ticketOf(unconfirmed.internetMessageId);
    await h.connector.waitFor((c) => c.conversationId === CHANNEL_ID && JSON.stringify(c.activity).includes(ticket.reference) && JSON.stringify(c.activity).includes('sender not verified'));
    const internal = await deliver({ from: 'hr@contoso.example', subject: 'New starter laptop', text: 'For Monday.', authentication: null, headers: { 'X-MS-Exchange-Organization-AuthAs': 'Internal' } });
    expect((await mailRow(internal.internetMessageId)).sender_check).toBeNull();
  });

  it('acknowledges only senders the receiving server authenticated', async () => {
    const cases = [
      { from: 'pass@fabrikam.example', authentication: undefined, acknowledged: true },
      { from: 'fail@fabrikam.example', authentication: forgedFrom('fabrikam.example'), acknowledged: false },
      { from: 'missing@fabrikam.example', authentication: null, acknowledged: false },
    ];
    for (const c of cases) {
      const mail = await deliver({ from: c.from, subject: `Printer question from ${c.from}`, text: 'Where is it?', authentication: c.authentication });
      const ticket = await ticketOf(mail.internetMessageId);
      const acks = await db().selectFrom('mail_outbox').select('to_address').where('ticket_id', '=', ticket.id).where('kind', '=', 'acknowledgement').execute();
      expect({ from: c.from, acknowledged: acks.length > 0 }).toEqual({ from: c.from, acknowledged: c.acknowledged });
    }
  });
});

describe('the desk-wide acknowledgement cap', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mail: true, env: { MAIL_ACK_MAX_PER_HOUR: '5', MAIL_ACK_MAX_PER_HOUR_TOTAL: '3' } });
  });
  afterAll(() => h.stop());

  it('stops acknowledging after the hourly total, whoever the senders are', async () => {
    for (let i = 0; i < 5; i++) await h.graph.deliver(composeEml({ from: `sender${i}@fabrikam${i}.example`, subject: `Question ${i}`, text: 'Hello' }));
    await h.syncMail();
    const db = h.service.database.db;
    expect(await db.selectFrom('tickets').select('id').execute()).toHaveLength(5);
    const acks = await db.selectFrom('mail_outbox').select('to_address').where('kind', '=', 'acknowledgement').execute();
    expect(acks).toHaveLength(3);
  });
});
