import { describe, expect, it } from 'vitest';
import { explainStatus } from '../../src/domain/mail/bounce-status.js';
import { describeRecipient, readDeliveryReport, REPORT_MAX_RECIPIENTS, REPORT_PART_MAX_CHARS, reportPartsOf, type ReportPart } from '../../src/domain/mail/delivery-report.js';
import type { InboundMail, MailAttachment } from '../../src/domain/mail/message.js';
import { parseGraphMessage } from '../../src/integrations/graph/message-schema.js';
import { composeEml, parseEml } from '../fakes/mail-message.js';

// Reports are written here the way the servers write them, and go through the same path as in intake:
// raw message → Graph's JSON (the fake) → parseGraphMessage, attachments → reportPartsOf.

async function bounce(mail: Parameters<typeof composeEml>[0], extraParts: ReportPart[] = []) {
  const { message, attachments } = await parseEml(composeEml(mail));
  const parsed = parseGraphMessage(message);
  if (!parsed.ok) throw new Error(parsed.problem);
  const listed: MailAttachment[] = attachments.map((a) => ({ id: a.id, kind: 'file', name: a.name, contentType: a.contentType, size: a.size, isInline: a.isInline, contentId: a.contentId, contentBytes: a.contentBytes ?? null }));
  return readDeliveryReport(parsed.mail, [...reportPartsOf(listed), ...extraParts]);
}

const DSN = (text: string) => ({ name: 'details.txt', type: 'message/delivery-status', content: Buffer.from(text) });

describe('reading an RFC 3464 delivery status notification', () => {
  it('reads each recipient block, folded diagnostic lines included, and the returned message', async () => {
    const report = await bounce(
      {
        from: 'MAILER-DAEMON@mx.contoso.example',
        subject: 'Undelivered Mail Returned to Sender',
        text: 'I could not deliver your message.',
        attachments: [
          DSN(
            [
              'Reporting-MTA: dns; mx.contoso.example',
              'Arrival-Date: Mon, 24 May 2010 19:06:50 +0900',
              '',
              'Final-Recipient: rfc822; Kim@Fabrikam.example',
              'Original-Recipient: rfc822;kim@fabrikam.example',
              'Action: failed',
              'Status: 5.1.1',
              'Remote-MTA: dns; mx1.fabrikam.example',
              'Diagnostic-Code: smtp; 550 5.1.1 <kim@fabrikam.example>: Recipient address',
              '    rejected: User unknown in virtual mailbox table',
              '',
              'Final-Recipient: rfc822; lee@northwind.example',
              'Action: delayed',
              'Status: 4.2.2',
              'Diagnostic-Code: smtp; 452 4.2.2 Mailbox full',
              '',
            ].join('\r\n'),
          ),
          { name: 'headers.txt', type: 'text/rfc822-headers', content: Buffer.from('Message-ID: <ticket-42.abc@desk.contoso.example>\r\nSubject: =?UTF-8?B?UmU6IFZQTiDinJQ=?=\r\nFrom: support@contoso.example\r\n') },
        ],
      },
    );
    expect(report.kind).toBe('failed');
    expect(report.reportingMta).toBe('mx.contoso.example');
    expect(report.recipients).toEqual([
      { address: 'kim@fabrikam.example', action: 'failed', status: '5.1.1', remoteMta: 'mx1.fabrikam.example', diagnostic: '550 5.1.1 <kim@fabrikam.example>: Recipient address rejected: User unknown in virtual mailbox table' },
      { address: 'lee@northwind.example', action: 'delayed', status: '4.2.2', remoteMta: null, diagnostic: '452 4.2.2 Mailbox full' },
    ]);
    expect(report.originalMessageIds).toEqual(['<ticket-42.abc@desk.contoso.example>']);
    expect(report.originalSubject).toBe('Re: VPN ✔');
    expect(report.recipients.map(describeRecipient)).toEqual([
      'could not deliver to kim@fabrikam.example: the mailbox does not exist (5.1.1: 550 5.1.1 <kim@fabrikam.example>: Recipient address rejected: User unknown in virtual mailbox table)',
      'delivery to lee@northwind.example delayed, the server will keep trying: the mailbox is full (4.2.2: 452 4.2.2 Mailbox full)',
    ]);
  });

  it('keeps the more specific code a diagnostic gives when Status says only the class', async () => {
    const report = await bounce({
      from: 'MAILER-DAEMON@email-bounces.amazonses.com',
      subject: 'Delivery Status Notification (Failure)',
      text: 'x',
      attachments: [DSN('Reporting-MTA: dns; a192-79.smtp-out.amazonses.com\n\nFinal-Recipient: rfc822;kim@fabrikam.example\nAction: failed\nStatus: 5.0.0 (permanent failure)\nDiagnostic-Code: smtp; 550 No such user here\n')],
    });
    expect(report.recipients[0]).toMatchObject({ address: 'kim@fabrikam.example', status: '5.1.1', diagnostic: '550 No such user here' });
    expect(explainStatus(report.recipients[0]!.status)).toBe('the mailbox does not exist');
  });

  it('finds our message by Original-Message-ID, In-Reply-To and References when nothing is returned', async () => {
    const report = await bounce({
      from: 'postmaster@fabrikam.example',
      subject: 'Undeliverable: VPN',
      text: 'x',
      inReplyTo: '<m1@desk.contoso.example>',
      references: '<m0@desk.contoso.example> <m1@desk.contoso.example>',
      attachments: [DSN('Reporting-MTA: dns; mx.fabrikam.example\nOriginal-Message-ID: <m1@desk.contoso.example>\n\nFinal-Recipient: rfc822; kim@fabrikam.example\nAction: failed\nStatus: 5.2.2\n')],
    });
    expect(report.originalMessageIds).toEqual(['<m1@desk.contoso.example>', '<m0@desk.contoso.example>']);
    expect(explainStatus(report.recipients[0]!.status)).toBe('the mailbox is full');
  });

  it('reads the returned message attached whole (Graph item attachment fetched as MIME)', async () => {
    const report = await bounce(
      { from: 'mailer-daemon@googlemail.com', subject: 'Delivery Status Notification (Failure)', text: 'x', attachments: [DSN('Final-Recipient: rfc822; kim@fabrikam.example\nAction: failed\nStatus: 5.7.1\n')] },
      [{ contentType: 'message/rfc822', text: 'Message-ID:\r\n <ticket-7.x@desk.contoso.example>\r\nSubject: Printer\r\n\r\nHello\r\nMessage-ID: <not-this@example.com>\r\n' }],
    );
    expect(report.originalMessageIds[0]).toBe('<ticket-7.x@desk.contoso.example>');
    expect(report.originalSubject).toBe('Printer');
    expect(explainStatus(report.recipients[0]!.status)).toBe("refused by the recipient's server (policy or spam filter)");
  });
});

describe('reading the notices of servers that send no report', () => {
  it("reads Postfix's `<x@y>: host … said:` lines with their continuation", async () => {
    const report = await bounce({
      from: 'MAILER-DAEMON@mail.contoso.example',
      subject: 'Undelivered Mail Returned to Sender',
      text: [
        'This is the mail system at host mail.contoso.example.',
        '',
        "I'm sorry to have to inform you that your message could not",
        'be delivered to one or more recipients.',
        '',
        'For further assistance, please send mail to <postmaster@contoso.example>',
        '',
        '<kim@fabrikam.example>: host mx.fabrikam.example[192.0.2.8] said: 550 5.1.1',
        '    <kim@fabrikam.example>... User Unknown (in reply to RCPT TO command)',
        '',
      ].join('\n'),
    });
    expect(report).toMatchObject({ kind: 'failed', reportingMta: 'mail.contoso.example' });
    expect(report.recipients).toEqual([
      { address: 'kim@fabrikam.example', status: '5.1.1', action: 'failed', remoteMta: 'mx.fabrikam.example', diagnostic: 'host mx.fabrikam.example[192.0.2.8] said: 550 5.1.1 <kim@fabrikam.example>... User Unknown (in reply to RCPT TO command)' },
    ]);
  });

  it("reads qmail's address line and the reason under it, and the returned message's id below the cut", async () => {
    const report = await bounce({
      from: 'MAILER-DAEMON@contoso.example',
      subject: 'failure notice',
      text: [
        'Hi. This is the qmail-send program at contoso.example.',
        "I'm afraid I wasn't able to deliver your message to the following addresses.",
        "This is a permanent error; I've given up. Sorry it didn't work out.",
        '',
        '<kim@fabrikam.example>:',
        '192.0.2.135 does not like recipient.',
        'Remote host said: 552 5.2.2 <kim@fabrikam.example>... Mailbox Full',
        '',
        '--- Below this line is a copy of the message.',
        '',
        'Message-Id: <ticket-9.q@desk.contoso.example>',
        'Subject: Invoice',
        'From: lee@fabrikam.example',
        '',
      ].join('\n'),
    });
    expect(report.recipients).toEqual([
      { address: 'kim@fabrikam.example', status: '5.2.2', action: 'failed', remoteMta: null, diagnostic: '192.0.2.135 does not like recipient. Remote host said: 552 5.2.2 <kim@fabrikam.example>... Mailbox Full' },
    ]);
    expect(report.originalMessageIds).toEqual(['<ticket-9.q@desk.contoso.example>']);
    expect(report.originalSubject).toBe('Invoice');
    expect(report.reportingMta).toBe('contoso.example');
  });

  it("reads Exchange Online's HTML report (https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online)", async () => {
    const report = await bounce({
      from: 'postmaster@contoso.onmicrosoft.example',
      subject: 'Undeliverable: Your ticket',
      headers: { 'X-MS-Exchange-Message-Is-Ndr': '' },
      html: [
        '<html><body>',
        "<p><b>Your message to kim@fabrikam.example couldn't be delivered.</b></p>",
        "<p>kim wasn't found at fabrikam.example.</p>",
        '<p>Diagnostic information for administrators:</p>',
        '<p>Generating server: BN8PR00MB0000.namprd00.prod.outlook.example</p>',
        '<p>kim@fabrikam.example<br>',
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'</p>",
        '</body></html>',
      ].join('\n'),
    });
    expect(report.recipients).toEqual([
      { address: 'kim@fabrikam.example', status: '5.1.10', action: 'failed', remoteMta: null, diagnostic: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup' },
    ]);
    expect(report.reportingMta).toBe('BN8PR00MB0000.namprd00.prod.outlook.example');
  });

  it("reads Gmail's “Address not found” notice", async () => {
    const report = await bounce({
      from: 'mailer-daemon@googlemail.com',
      subject: 'Delivery Status Notification (Failure)',
      text: [
        'Address not found',
        '',
        "Your message wasn't delivered to kim@fabrikam.example because the address couldn't be found, or is unable to receive mail.",
        '',
        'The response from the remote server was:',
        '550 5.1.1 The email account that you tried to reach does not exist.',
      ].join('\n'),
    });
    expect(report.recipients).toEqual([{ address: 'kim@fabrikam.example', status: '5.1.1', action: 'failed', remoteMta: null, diagnostic: '550 5.1.1 The email account that you tried to reach does not exist.' }]);
  });

  it('tells a delay from a failure', async () => {
    const report = await bounce({
      from: 'mailer-daemon@googlemail.com',
      subject: 'Delivery Status Notification (Delay)',
      text: 'THIS IS A WARNING MESSAGE ONLY.\n\nDelivery to the following recipient has been delayed:\n\n     kim@fabrikam.example\n\nMessage will be retried for 2 more day(s)\n\nThe error that the other server returned was: 451 4.4.1 timed out\n',
    });
    expect(report.kind).toBe('delayed');
    expect(report.recipients[0]).toMatchObject({ address: 'kim@fabrikam.example', action: 'delayed', status: '4.4.1' });
    expect(explainStatus(report.recipients[0]!.status)).toBe("delayed, the server will keep trying: the recipient's server did not answer");
  });

  it('does not take the addresses a notice mentions in passing for failed recipients', async () => {
    const report = await bounce({
      from: 'MAILER-DAEMON@contoso.example',
      to: 'support@contoso.example',
      subject: 'Mail delivery failed',
      text: 'For help, please contact <helpdesk@contoso.example> or write to support@contoso.example.\nTo: support@contoso.example\n',
    });
    expect(report.recipients).toEqual([]);
    expect(report.kind).toBe('unknown');
  });
});

describe('bad input', () => {
  it('gives an empty report, not an error, for a message that is no report at all', async () => {
    const report = await bounce({ from: 'kim@fabrikam.example', subject: 'Hello', text: '' }, [
      { contentType: 'message/delivery-status', text: '\u0000\u0001garbage: : :\n\n\n;;;;\nFinal-Recipient:\nAction: failed\n' },
      { contentType: 'message/rfc822', text: '' },
    ]);
    expect(report).toEqual({ recipients: [], originalMessageIds: [], originalSubject: null, reportingMta: null, kind: 'unknown' });
  });

  it('keeps a diagnostic to one readable line of at most 300 characters', async () => {
    const long = `550 5.7.1 ${'blocked because of policy '.repeat(40)}`;
    const report = await bounce({ from: 'MAILER-DAEMON@contoso.example', subject: 'x', text: 'x', attachments: [DSN(`Final-Recipient: rfc822; kim@fabrikam.example\nAction: failed\nStatus: 5.7.1\nDiagnostic-Code: smtp; ${long.slice(0, 400)}\n  ${long.slice(400)}\n`)] });
    const diagnostic = report.recipients[0]!.diagnostic!;
    expect(diagnostic.length).toBeLessThanOrEqual(300);
    expect(diagnostic).not.toMatch(/\s{2}|\n/);
    expect(diagnostic.startsWith('550 5.7.1 blocked because of policy')).toBe(true);
  });
});

describe('bounded work on hostile reports', () => {
  // Measured on the shared 2-core machine: 17 ms for the 5 MB body, 75 ms for the 10,000 blocks. The
  // bound leaves a wide margin and still catches a parser quadratic in its input (minutes at these sizes).
  const BOUND_MS = 3_000;

  it('reads a 5 MB body in linear time', () => {
    const body = `<kim@fabrikam.example>: host mx said: 550 5.1.1 unknown\n${'x@y '.repeat(300_000)}\n${'@'.repeat(1_000_000)}${'a.'.repeat(1_000_000)}`;
    expect(body.length).toBeGreaterThan(4_000_000);
    const mail = fakeMail({ type: 'text', content: body });
    const t0 = performance.now();
    const report = readDeliveryReport(mail, [{ contentType: 'text/plain', text: body }, { contentType: 'message/rfc822', text: `Subject: ${'s'.repeat(5_000_000)}` }]);
    const ms = performance.now() - t0;
    expect(report.recipients[0]).toMatchObject({ address: 'kim@fabrikam.example', status: '5.1.1' });
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('decodes only the first 256 KB of a large attachment, and none of the attachments that cannot be a report', () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 'Final-Recipient: rfc822; kim@fabrikam.example\n').toString('base64');
    const attachment = (contentType: string): MailAttachment => ({ id: contentType, kind: 'file', name: 'x', contentType, size: 5 * 1024 * 1024, isInline: false, contentId: null, contentBytes: big });
    const parts = reportPartsOf([attachment('message/delivery-status'), attachment('application/pdf'), attachment('image/png'), { ...attachment('message/rfc822'), kind: 'item', contentBytes: null }]);
    expect(parts.map((p) => p.contentType)).toEqual(['message/delivery-status']);
    expect(parts[0]!.text.length).toBeLessThanOrEqual(REPORT_PART_MAX_CHARS + 2);
    expect(parts[0]!.text.startsWith('Final-Recipient: rfc822; kim@fabrikam.example')).toBe(true);
  });

  it('reads 10,000 recipient blocks in linear time and reports a bounded number of them', () => {
    const blocks = Array.from({ length: 10_000 }, (_, i) => `Final-Recipient: rfc822; user${i}@fabrikam.example\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 unknown\n   user\n`).join('\n');
    const mail = fakeMail({ type: 'text', content: 'x' });
    const t0 = performance.now();
    const report = readDeliveryReport(mail, [{ contentType: 'message/delivery-status', text: `Reporting-MTA: dns; mx.contoso.example\n\n${blocks}` }]);
    const ms = performance.now() - t0;
    expect(report.recipients).toHaveLength(REPORT_MAX_RECIPIENTS);
    expect(report.recipients[0]).toEqual({ address: 'user0@fabrikam.example', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 unknown user', remoteMta: null });
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

describe('a status in plain words (RFC 3463)', () => {
  it.each([
    ['5.1.1', 'the mailbox does not exist'],
    ['5.2.2', 'the mailbox is full'],
    ['5.7.1', "refused by the recipient's server (policy or spam filter)"],
    ['4.2.2', 'delayed, the server will keep trying: the mailbox is full'],
    ['4.0.0', 'delayed, the server will keep trying'],
    ['5.7.26', 'refused for security or policy reasons'],
    ['5.4.4', "no mail server could be found for the recipient's domain"],
    ['2.0.0', 'delivered'],
    [null, 'could not be delivered'],
    ['not a code', 'could not be delivered'],
  ])('%s → %s', (status, words) => {
    expect(explainStatus(status)).toBe(words);
  });
});

function fakeMail(body: InboundMail['body']): InboundMail {
  return { mailboxId: 'm', internetMessageId: '<b@contoso.example>', conversationId: null, subject: '', from: { address: 'mailer-daemon@contoso.example', name: '' }, to: [], cc: [], receivedAt: 0, headers: new Map(), body, hasAttachments: false };
}
