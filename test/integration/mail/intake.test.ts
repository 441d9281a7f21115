import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeEml } from '../../fakes/mail-message.js';
import { adele, alex, channelMessage, CHANNEL_ID, megan, personalConversationId } from '../../support/activities.js';
import { startHarness, SUPPORT_MAILBOX, type Harness } from '../../support/harness.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/email/${name}`, import.meta.url));

describe('email to tickets through the Graph mailbox', () => {
  let h: Harness;
  const attachmentDir = mkdtempSync(join(tmpdir(), 'sd-attachments-'));

  beforeAll(async () => {
    h = await startHarness({ mail: true, env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId, ATTACHMENT_MAX_BYTES: '2048', ATTACHMENT_DIR: attachmentDir, MAIL_ACK_MAX_PER_HOUR: '2' } });
    await h.install(alex, megan);
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
    await h.say(megan, 'help'); // agents are known once they have used the bot
    await db().updateTable('people').set({ email: 'megan@contoso.example' }).where('aad_object_id', '=', megan.aadObjectId).execute();
  });
  afterAll(async () => {
    await h.stop();
    rmSync(attachmentDir, { recursive: true, force: true });
  });

  const db = () => h.service.database.db;
  const ticketBySubject = (subject: string) => db().selectFrom('tickets').selectAll().where('subject', '=', subject).executeTakeFirstOrThrow();
  const timeline = (ticketId: number) => db().selectFrom('timeline_entries').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute();
  const mailRow = (messageId: string) => db().selectFrom('mail_messages').selectAll().where('internet_message_id', '=', messageId).executeTakeFirstOrThrow();
  const ticketCount = async () => Number((await db().selectFrom('tickets').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  /** The mail we sent in answer to `messageId` (another test's mail may still be on its way out). */
  async function sentInReplyTo(messageId: string, via?: string) {
    await expect.poll(() => h.graph.sent.some((s) => s.inReplyTo === messageId && (!via || s.via === via))).toBe(true);
    return h.graph.sent.find((s) => s.inReplyTo === messageId && (!via || s.via === via))!;
  }

  async function newTicket(subject: string, from = 'dana@fabrikam.example', cc?: string[]) {
    const mail = await h.graph.deliver(composeEml({ from, fromName: 'Dana Ruiz', subject, text: `About: ${subject}`, ...(cc ? { cc } : {}) }));
    await h.syncMail();
    const ticket = await ticketBySubject(subject);
    const ack = await sentInReplyTo(mail.internetMessageId);
    return { mail, ticket, ack };
  }

  it('opens a ticket, posts its card to the triage channel and acknowledges in the same thread', async () => {
    const { mail, ticket, ack } = await newTicket('Printer on floor 3 is jammed');
    expect(ticket).toMatchObject({ source: 'email', status: 'new', priority: 'P3' });
    const [card] = await h.connector.waitFor((c) => c.operation === 'send' && c.conversationId === CHANNEL_ID && JSON.stringify(c.activity).includes(ticket.reference));
    expect(JSON.stringify(card!.activity)).toContain('Printer on floor 3 is jammed');
    expect(ack.subject).toBe(`RE: Printer on floor 3 is jammed [${ticket.reference}]`);
    expect(ack.inReplyTo).toBe(mail.internetMessageId);
    expect(ack.headers.find((x) => x.name.toLowerCase() === 'auto-submitted')?.value).toBe('auto-replied');
    const requester = await db().selectFrom('people').selectAll().where('id', '=', ticket.requester_id).executeTakeFirstOrThrow();
    expect(requester).toMatchObject({ email: 'dana@fabrikam.example', name: 'Dana Ruiz', role: 'requester' });
    const created = (await timeline(ticket.id)).find((e) => e.kind === 'created')!;
    expect(JSON.parse(created.data!)).toMatchObject({ source: 'email', email: { messageId: mail.internetMessageId, rule: 'new' } });
  });

  it('threads a reply by each rule in turn, and records which one matched', async () => {
    const { mail, ticket, ack } = await newTicket('VPN drops every hour', 'erin@fabrikam.example', ['frank@fabrikam.example']);
    const ticketsBefore = await ticketCount();
    const reply = async (eml: string) => {
      const delivered = await h.graph.deliver(eml);
      await h.syncMail();
      const row = await mailRow(delivered.internetMessageId);
      return row;
    };
    // 1. the reference in the subject, after a German reply prefix
    expect(await reply(composeEml({ from: 'erin@fabrikam.example', subject: `AW: VPN drops every hour [${ticket.reference}]`, text: 'Still broken' }))).toMatchObject({ ticket_id: ticket.id, disposition: 'reply', reason: 'subject-reference' });
    // 2. In-Reply-To our acknowledgement (the client dropped the reference from the subject)
    expect(await reply(composeEml({ from: 'erin@fabrikam.example', subject: 'Re: something else', text: 'More logs', inReplyTo: ack.internetMessageId }))).toMatchObject({ ticket_id: ticket.id, reason: 'message-id' });
    // 2b. a colleague on CC answers the customer's original message: References holds the inbound id
    expect(await reply(composeEml({ from: 'frank@fabrikam.example', subject: 'Re: other', text: 'Same here', references: `<unknown@x> ${mail.internetMessageId}` }))).toMatchObject({ ticket_id: ticket.id, reason: 'message-id' });
    // 3. the hidden token only (subject edited, headers stripped by a gateway)
    const token = /\[sd:\d+:[0-9a-f]{12}\]/.exec(ack.text ?? '')![0];
    expect(await reply(composeEml({ from: 'erin@fabrikam.example', subject: 'new subject entirely', text: `see below\n\n> ${token}` }))).toMatchObject({ ticket_id: ticket.id, reason: 'hidden-token' });
    // 4. only Graph's conversationId (same subject, nothing else): the last hint
    expect(await reply(composeEml({ from: 'erin@fabrikam.example', subject: 'RE: VPN drops every hour', text: 'and again' }))).toMatchObject({ ticket_id: ticket.id, reason: 'conversation-id' });

    const replies = (await timeline(ticket.id)).filter((e) => e.kind === 'reply');
    expect(replies.map((e) => JSON.parse(e.data!).email.rule)).toEqual(['subject-reference', 'message-id', 'message-id', 'hidden-token', 'conversation-id']);
    expect(replies[0]!.body).toBe('Still broken');
    // Every one of them landed on the ticket: none opened a ticket of its own.
    expect(await ticketCount()).toBe(ticketsBefore);
    expect((await db().selectFrom('tickets').select('id').where('subject', '=', 'VPN drops every hour').execute()).length).toBe(1);
  });

  it('reopens a resolved ticket within the window, and opens a linked ticket for a closed one', async () => {
    const { ticket } = await newTicket('Laptop will not charge', 'gail@fabrikam.example');
    await db().updateTable('tickets').set({ status: 'resolved', resolved_at: Date.now() - 3_600_000, is_open: 0 }).where('id', '=', ticket.id).execute();
    await h.graph.deliver(composeEml({ from: 'gail@fabrikam.example', subject: `Re: Laptop will not charge [${ticket.reference}]`, text: 'It stopped again' }));
    await h.syncMail();
    expect(await db().selectFrom('tickets').select('status').where('id', '=', ticket.id).executeTakeFirstOrThrow()).toEqual({ status: 'open' });

    await db().updateTable('tickets').set({ status: 'closed', closed_at: Date.now(), is_open: 0 }).where('id', '=', ticket.id).execute();
    await h.graph.deliver(composeEml({ from: 'gail@fabrikam.example', subject: `Re: Laptop will not charge [${ticket.reference}]`, text: 'New charger, same problem' }));
    await h.syncMail();
    const followUps = await db().selectFrom('tickets').selectAll().where('subject', '=', 'Laptop will not charge').orderBy('id').execute();
    expect(followUps).toHaveLength(2);
    expect(followUps[0]!.status).toBe('closed');
    const link = (await timeline(followUps[1]!.id)).find((e) => e.kind === 'linked')!;
    expect(JSON.parse(link.data!)).toMatchObject({ ticketId: ticket.id, rule: 'subject-reference' });
  });

  it('never ingests the same Message-ID twice, even when the mailbox is read again from the start', async () => {
    const eml = composeEml({ from: 'hana@fabrikam.example', subject: 'Duplicate check', text: 'once' });
    await h.graph.deliver(eml);
    await h.graph.deliver(eml); // the same message delivered twice (e.g. moved back to the Inbox)
    await h.syncMail();
    h.graph.expireDeltaTokens();
    await h.syncMail();
    expect((await db().selectFrom('tickets').select('id').where('subject', '=', 'Duplicate check').execute()).length).toBe(1);
  });

  it("makes an agent's forward a ticket for the original sender, without acknowledging anyone", async () => {
    const text = 'Can someone look at this?\n\n________________________________\nFrom: Ivan Petrov <ivan@northwind.example>\nSent: Monday, 3 March 2025 10:02\nTo: Megan Bowen <megan@contoso.example>\nSubject: Invoice portal shows 500\n\nHi Megan, the invoice portal fails.';
    await h.graph.deliver(composeEml({ from: 'megan@contoso.example', fromName: 'Megan Bowen', subject: 'FW: Invoice portal shows 500', text }));
    await h.syncMail();
    const ticket = await ticketBySubject('Invoice portal shows 500');
    const requester = await db().selectFrom('people').selectAll().where('id', '=', ticket.requester_id).executeTakeFirstOrThrow();
    expect(requester).toMatchObject({ email: 'ivan@northwind.example', name: 'Ivan Petrov' });
    expect(ticket.description).toContain('the invoice portal fails');
    expect(await db().selectFrom('mail_outbox').select('id').where('ticket_id', '=', ticket.id).execute()).toEqual([]);
    const created = (await timeline(ticket.id)).find((e) => e.kind === 'created')!;
    expect(JSON.parse(created.data!)).toMatchObject({ requesterId: ticket.requester_id, email: { rule: 'forwarded', from: 'megan@contoso.example' } });
  });

  it('never opens tickets for our own mail, robots, lists or bounces, and notes a bounce on its ticket', async () => {
    const before = await ticketCount();
    const own = await h.graph.deliver(composeEml({ from: SUPPORT_MAILBOX, subject: 'RE: something', text: 'our own' }));
    const robot = await h.graph.deliver(fixture('auto_reply.eml'));
    const list = await h.graph.deliver(composeEml({ from: 'news@lists.example', subject: 'Weekly digest', text: 'x', headers: { 'List-Id': '<digest.lists.example>' } }));
    const { ticket, ack } = await newTicket('Bounce target', 'nobody@unreachable.example');
    const dsn = [
      'From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>',
      `To: <${SUPPORT_MAILBOX}>`,
      'Subject: Delivery Status Notification (Failure)',
      'Message-ID: <dsn-1@mx.google.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      "Your message wasn't delivered to nobody@unreachable.example.",
      '--b',
      'Content-Type: message/delivery-status',
      '',
      'Final-Recipient: rfc822; nobody@unreachable.example',
      'Action: failed',
      'Status: 5.1.1',
      '--b',
      'Content-Type: text/rfc822-headers',
      '',
      `Message-ID: ${ack.internetMessageId}`,
      `Subject: ${ack.subject}`,
      '--b--',
      '',
    ].join('\r\n');
    const bounce = await h.graph.deliver(dsn);
    await h.syncMail();
    expect(await ticketCount()).toBe(before + 1);
    expect(await mailRow(own.internetMessageId)).toMatchObject({ disposition: 'filtered', reason: 'our own mail' });
    expect(await mailRow(robot.internetMessageId)).toMatchObject({ disposition: 'filtered', reason: 'auto-reply: x-autoreply: yes' });
    expect(await mailRow(list.internetMessageId)).toMatchObject({ disposition: 'filtered' });
    expect(await mailRow(bounce.internetMessageId)).toMatchObject({ disposition: 'bounce', ticket_id: ticket.id });
    const note = (await timeline(ticket.id)).find((e) => e.kind === 'email-bounced')!;
    expect(note.body).toBe('Could not deliver to nobody@unreachable.example: the mailbox does not exist (5.1.1)');
    expect(note.visibility).toBe('internal');
  });

  it('acknowledges one sender at most MAIL_ACK_MAX_PER_HOUR times', async () => {
    for (const n of [1, 2, 3]) await h.graph.deliver(composeEml({ from: 'busy@fabrikam.example', subject: `Busy sender ${n}`, text: 'x' }));
    await h.syncMail();
    await expect.poll(() => h.graph.sent.filter((s) => s.to.includes('busy@fabrikam.example')).length).toBe(2);
    expect((await db().selectFrom('tickets').select('id').where('subject', 'like', 'Busy sender %').execute()).length).toBe(3);
    expect((await db().selectFrom('mail_outbox').select('id').where('to_address', '=', 'busy@fabrikam.example').execute()).length).toBe(2);
  });

  it('keeps HTML safe, non-ASCII intact, and attachments: small ones stored, large ones linked, inline images kept', async () => {
    const subject = 'Rechnung für März — 東京 office';
    const big = Buffer.alloc(4096, 7);
    const eml = composeEml({
      from: 'jo@fabrikam.example',
      subject,
      html: '<p>Hallo,</p><script>steal()</script><p>siehe Anhang &amp; Bild <img src="cid:logo@x"><img src="https://t.example/p.gif"></p>',
      attachments: [
        { name: '../../Übersicht.pdf', type: 'application/pdf', content: Buffer.from('%PDF-1.4 small') },
        { name: 'dump.bin', type: 'application/octet-stream', content: big },
        { name: 'logo.png', type: 'image/png', content: Buffer.from('PNGDATA'), inline: true, cid: 'logo@x' },
      ],
    });
    await h.graph.deliver(eml);
    await h.syncMail();
    const ticket = await ticketBySubject(subject);
    expect(ticket.description).toBe('Hallo,\n\nsiehe Anhang & Bild');
    const files = await db().selectFrom('mail_attachments').selectAll().where('ticket_id', '=', ticket.id).orderBy('id').execute();
    expect(files.map((f) => [f.name, f.storage, f.size, f.inline])).toEqual([
      ['Übersicht.pdf', 'file', 14, 0],
      ['dump.bin', 'link', 4096, 0],
      ['logo.png', 'file', 7, 1],
    ]);
    expect(files[1]!.location).toMatch(/^https:\/\/localhost:\d+\/v1\.0\/users\/.+\/attachments\/.+\/\$value$/);
    // In ATTACHMENT_DIR under the SHA-256 of its bytes (identical files are kept once).
    const pdfPath = join(attachmentDir, files[0]!.content_key!);
    expect(files[0]!.content_key).toBe(createHash('sha256').update('%PDF-1.4 small').digest('hex'));
    expect(readFileSync(pdfPath, 'utf8')).toBe('%PDF-1.4 small');
    // A customer's file is readable by the service's user only, whatever the umask of the test runner.
    expect(statSync(pdfPath).mode & 0o777).toBe(0o600);
    const original = await db().selectFrom('mail_messages').select(['body', 'body_type']).where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow();
    expect(original.body_type).toBe('html');
    expect(original.body).toContain('<script>steal()</script>'); // the full original is kept, never shown
  });

  it('answers from Teams in the same thread, and the customer’s answer lands on the same ticket', async () => {
    const { mail, ticket } = await newTicket('Cannot log in to the portal', 'kim@fabrikam.example');
    await h.say(megan, `take ${ticket.reference}`);
    const answer = await h.say(megan, `reply ${ticket.reference} Please reset your password from the link on the sign-in page.`);
    expect(JSON.stringify(answer.activity)).toContain(`Reply emailed on ${ticket.reference}`);
    const sent = await sentInReplyTo(mail.internetMessageId, 'reply');
    expect(sent).toMatchObject({ via: 'reply', to: ['kim@fabrikam.example'], inReplyTo: mail.internetMessageId, subject: `RE: Cannot log in to the portal [${ticket.reference}]` });
    expect(sent!.html).toContain('Please reset your password');
    expect(sent!.html).toMatch(/display:none[^>]*>\[sd:\d+:[0-9a-f]{12}\]/);
    await expect.poll(async () => (await timeline(ticket.id)).find((e) => e.kind === 'email-sent' && JSON.parse(e.data!).kind === 'reply')?.data).toContain(sent!.internetMessageId);
    expect((await db().selectFrom('tickets').select('first_response_at').where('id', '=', ticket.id).executeTakeFirstOrThrow()).first_response_at).not.toBeNull();

    // The customer answers the reply in Outlook: threaded by In-Reply-To to the message we sent.
    await h.graph.deliver(composeEml({ from: 'kim@fabrikam.example', subject: 'RE: Cannot log in', text: 'Worked, thanks!\n\nOn Monday, Support wrote:\n> Please reset your password', inReplyTo: sent!.internetMessageId, references: `${mail.internetMessageId} ${sent!.internetMessageId}` }));
    await h.syncMail();
    const entries = await timeline(ticket.id);
    expect(entries.at(-1)).toMatchObject({ kind: 'reply', visibility: 'public', body: 'Worked, thanks!' });
    expect(JSON.parse(entries.at(-1)!.data!).email.rule).toBe('message-id');
    // The assignee hears about it in their personal chat.
    await h.connector.waitFor((c) => c.conversationId === personalConversationId(megan) && c.operation === 'send' && JSON.stringify(c.activity).includes('Worked, thanks!'));
  });
});
