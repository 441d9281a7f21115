import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeEml } from '../../fakes/mail-message.js';
import { adele, alex, channelMessage, CHANNEL_ID, megan, personalConversationId } from '../../support/activities.js';
import { startHarness, SUPPORT_MAILBOX, type Harness } from '../../support/harness.js';

/** A delivery status notification (RFC 3464) for a message we sent, as a receiving MTA writes it. */
function dsn(options: { to: string; returnedMessageId: string; returnedSubject: string; status: string; action?: string; diagnostic?: string; id: string }): string {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.fabrikam.example>',
    `To: <${SUPPORT_MAILBOX}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: <${options.id}@mx.fabrikam.example>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
    '',
    '--r',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.fabrikam.example.',
    "I'm sorry to have to inform you that your message could not be delivered.",
    '--r',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.fabrikam.example',
    '',
    `Final-Recipient: rfc822; ${options.to}`,
    `Action: ${options.action ?? 'failed'}`,
    `Status: ${options.status}`,
    'Remote-MTA: dns; mailstore.fabrikam.example',
    ...(options.diagnostic ? [`Diagnostic-Code: smtp; ${options.diagnostic}`] : []),
    '',
    '--r',
    'Content-Type: text/rfc822-headers',
    '',
    `From: <${SUPPORT_MAILBOX}>`,
    `To: <${options.to}>`,
    `Subject: ${options.returnedSubject}`,
    `Message-ID: ${options.returnedMessageId}`,
    '',
    '--r--',
    '',
  ].join('\r\n');
}

describe('bounces tell the agent', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ mail: true, env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId } });
    await h.install(alex, megan);
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
    await h.say(megan, 'help');
  });
  afterAll(() => h.stop());

  const db = () => h.service.database.db;
  const timeline = (ticketId: number) => db().selectFrom('timeline_entries').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute();

  async function ticketFrom(from: string, subject: string) {
    const mail = await h.graph.deliver(composeEml({ from, fromName: 'Lee Gu', subject, text: 'Please help', cc: ['lynne@fabrikam.example'] }));
    await h.syncMail();
    const ticket = await db().selectFrom('tickets').selectAll().where('subject', '=', subject).executeTakeFirstOrThrow();
    await h.say(megan, `take ${ticket.reference}`);
    return { mail, ticket };
  }

  it('says who could not be reached and why, flags the address on the card, and tells the assignee', async () => {
    const { ticket } = await ticketFrom('lee@fabrikam.example', 'Expense report stuck');
    await h.say(megan, `reply ${ticket.reference} Could you send a screenshot?`);
    await expect.poll(() => h.graph.sent.some((s) => s.via === 'reply' && s.subject.includes(ticket.reference))).toBe(true);
    const reply = h.graph.sent.find((s) => s.via === 'reply' && s.subject.includes(ticket.reference))!;
    expect(reply.cc).toEqual(['lynne@fabrikam.example']);

    await h.graph.deliver(dsn({ id: 'b1', to: 'lynne@fabrikam.example', returnedMessageId: reply.internetMessageId, returnedSubject: reply.subject, status: '5.1.1', diagnostic: '550 5.1.1 <lynne@fabrikam.example>: Recipient address rejected: User unknown' }));
    await h.syncMail();

    const note = (await timeline(ticket.id)).filter((e) => e.kind === 'email-bounced').at(-1)!;
    expect(note).toMatchObject({ visibility: 'internal' });
    expect(note.body).toBe('Could not deliver to lynne@fabrikam.example: the mailbox does not exist (5.1.1: 550 5.1.1 <lynne@fabrikam.example>: Recipient address rejected: User unknown)');
    const flagged = await db().selectFrom('mail_participants').selectAll().where('ticket_id', '=', ticket.id).where('address', '=', 'lynne@fabrikam.example').executeTakeFirstOrThrow();
    expect(flagged.bounced_at).not.toBeNull();
    // The agents' card says so wherever it is, and the assignee hears it in their personal chat.
    await h.connector.waitFor((c) => c.conversationId === CHANNEL_ID && c.operation === 'update' && JSON.stringify(c.activity).includes('lynne@fabrikam.example: the mailbox does not exist'));
    await h.connector.waitFor((c) => c.conversationId === personalConversationId(megan) && JSON.stringify(c.activity).includes('Could not deliver to lynne@fabrikam.example'));

    // The next reply still copies Lynne, and the timeline warns that it may not arrive either.
    await h.say(megan, `reply ${ticket.reference} Never mind, found it.`);
    await expect.poll(async () => (await timeline(ticket.id)).some((e) => e.kind === 'email-bounced' && e.body.startsWith('This reply also goes to lynne@fabrikam.example'))).toBe(true);

    // Mail from Lynne proves the address works again.
    await h.graph.deliver(composeEml({ from: 'lynne@fabrikam.example', subject: `RE: Expense report stuck [${ticket.reference}]`, text: 'I am back.' }));
    await h.syncMail();
    const cleared = await db().selectFrom('mail_participants').selectAll().where('ticket_id', '=', ticket.id).where('address', '=', 'lynne@fabrikam.example').executeTakeFirstOrThrow();
    expect(cleared.bounced_at).toBeNull();
  });

  it('ignores a forged bounce that only names the ticket: nobody is flagged, added to the thread or copied on replies', async () => {
    const { ticket } = await ticketFrom('nora@fabrikam.example', 'Laptop fan noise');
    const forged = [
      'From: Mail Delivery System <MAILER-DAEMON@evil.example>',
      `To: <${SUPPORT_MAILBOX}>`,
      'Subject: Undelivered Mail Returned to Sender',
      'Message-ID: <forged-1@evil.example>',
      'X-Failed-Recipients: attacker@evil.example',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
      '',
      '--r',
      'Content-Type: message/delivery-status',
      '',
      'Final-Recipient: rfc822; attacker@evil.example',
      'Action: failed',
      'Status: 5.1.1',
      '',
      '--r',
      'Content-Type: text/rfc822-headers',
      '',
      `Subject: RE: Laptop fan noise [${ticket.reference}]`,
      'Message-ID: <made-up@evil.example>',
      '',
      '--r--',
      '',
    ].join('\r\n');
    const delivered = await h.graph.deliver(forged);
    await h.syncMail();
    expect(await db().selectFrom('mail_messages').select(['disposition', 'ticket_id']).where('internet_message_id', '=', delivered.internetMessageId).executeTakeFirstOrThrow()).toEqual({ disposition: 'bounce', ticket_id: null });
    const participants = await db().selectFrom('mail_participants').select(['address', 'bounced_at']).where('ticket_id', '=', ticket.id).orderBy('address').execute();
    expect(participants).toEqual([{ address: 'lynne@fabrikam.example', bounced_at: null }, { address: 'nora@fabrikam.example', bounced_at: null }]);
    expect((await timeline(ticket.id)).filter((e) => e.kind === 'email-bounced')).toEqual([]);
    await h.say(megan, `reply ${ticket.reference} Try the fan profile in the BIOS.`);
    await expect.poll(() => h.graph.sent.some((s) => s.via === 'reply' && s.subject.includes(ticket.reference))).toBe(true);
    expect(h.graph.sent.find((s) => s.via === 'reply' && s.subject.includes(ticket.reference))!.cc).toEqual(['lynne@fabrikam.example']);
  });

  it('notes a delay without flagging anyone, and finds the ticket of a server’s plain notice by our token', async () => {
    const { mail, ticket } = await ticketFrom('mia@fabrikam.example', 'VPN certificate expired');
    await expect.poll(() => h.graph.sent.some((s) => s.inReplyTo === mail.internetMessageId)).toBe(true);
    const ack = h.graph.sent.find((s) => s.inReplyTo === mail.internetMessageId)!;
    await h.graph.deliver(dsn({ id: 'b2', to: 'mia@fabrikam.example', returnedMessageId: ack.internetMessageId, returnedSubject: ack.subject, status: '4.4.7', action: 'delayed', diagnostic: '421 4.4.7 mailbox temporarily unavailable' }));
    await h.syncMail();
    const delay = (await timeline(ticket.id)).filter((e) => e.kind === 'email-bounced').at(-1)!;
    expect(delay.body).toMatch(/^Delivery to mia@fabrikam\.example delayed, the server will keep trying/);
    expect((await db().selectFrom('mail_participants').select('bounced_at').where('ticket_id', '=', ticket.id).where('address', '=', 'mia@fabrikam.example').executeTakeFirstOrThrow()).bounced_at).toBeNull();

    // qmail-style: no report part, no headers; only our quoted message with its hidden token.
    const token = /\[sd:\d+:[0-9a-f]{12}\]/.exec(ack.text ?? '')![0];
    const qmail = [
      'From: MAILER-DAEMON@mail.fabrikam.example',
      `To: ${SUPPORT_MAILBOX}`,
      'Subject: failure notice',
      'Message-ID: <qmail-1@mail.fabrikam.example>',
      '',
      "Hi. This is the qmail-send program at mail.fabrikam.example.",
      "I'm afraid I wasn't able to deliver your message to the following addresses.",
      'This is a permanent error; I\'ve given up. Sorry it didn\'t work out.',
      '',
      '<mia@fabrikam.example>:',
      'Sorry, no mailbox here by that name. (#5.1.1)',
      '',
      '--- Below this line is a copy of the message.',
      '',
      `Subject: ${ack.subject.replace(/\[INC-\d+\]/, '')}`,
      '',
      `Thank you for writing to us. ${token}`,
      '',
    ].join('\r\n');
    await h.graph.deliver(qmail);
    await h.syncMail();
    const failed = (await timeline(ticket.id)).filter((e) => e.kind === 'email-bounced').at(-1)!;
    expect(failed.body).toMatch(/^Could not deliver to mia@fabrikam\.example: the mailbox does not exist/);
  });
});
