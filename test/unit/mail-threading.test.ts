import { describe, expect, it } from 'vitest';
import { headerMap, type InboundMail } from '../../src/domain/mail/message.js';
import { findThread, forwardedSender, MAX_LOOKUPS, subjectReferences, tokensIn, trustThread, type ThreadLookups } from '../../src/domain/mail/threading.js';

function mail(overrides: Partial<InboundMail> & { headerList?: Array<{ name: string; value: string }> } = {}): InboundMail {
  return {
    mailboxId: 'm1',
    internetMessageId: '<new@customer.example>',
    conversationId: 'conv-1',
    subject: 'Printer',
    from: { address: 'dana@fabrikam.example', name: 'Dana' },
    to: [],
    cc: [],
    receivedAt: 0,
    headers: headerMap(overrides.headerList ?? []),
    body: { type: 'text', content: '' },
    hasAttachments: false,
    ...overrides,
  };
}

const lookups = (data: { tickets?: number[]; ids?: Record<string, number>; tokens?: Record<string, number>; conversations?: Record<string, number> }): ThreadLookups => ({
  ticketExists: async (id) => (data.tickets ?? []).includes(id),
  ticketByMessageIds: async (ids) => ids.map((id) => data.ids?.[id]).find((t) => t !== undefined),
  ticketByToken: async (id, token) => data.tokens?.[token] === id,
  ticketByConversation: async (id) => data.conversations?.[id],
});

describe('ticket references in subjects', () => {
  it('finds [INC-1042] after any reply or forward prefix, in several languages', () => {
    for (const subject of ['RE: Printer [INC-1042]', 'AW: WG: Printer [INC-1042]', 'SV: [inc-1042] Skrivare', 'FW: Fwd: Re: [REQ-1042]', 'Printer [#1042]']) {
      expect(subjectReferences(subject), subject).toEqual([1042]);
    }
    expect(subjectReferences('INC-1042 without brackets')).toEqual([]);
  });
});

describe('threading order', () => {
  const all = lookups({ tickets: [7], ids: { '<sent@contoso>': 8 }, tokens: { abcdefabcdef: 9 }, conversations: { 'conv-1': 10 } });
  const everything = mail({
    subject: 'RE: Printer [INC-7]',
    headerList: [{ name: 'In-Reply-To', value: '<sent@contoso>' }],
    body: { type: 'text', content: 'thanks\n[sd:9:abcdefabcdef]' },
  });

  it('trusts the subject reference first', async () => {
    expect(await findThread(everything, '', all)).toMatchObject({ ticketId: 7, rule: 'subject-reference' });
  });

  it('then In-Reply-To and References against every stored Message-ID', async () => {
    expect(await findThread({ ...everything, subject: 'RE: Printer' }, '', all)).toMatchObject({ ticketId: 8, rule: 'message-id' });
    const cc = mail({ headerList: [{ name: 'References', value: '<unknown@x> <sent@contoso>' }] });
    expect(await findThread(cc, '', all)).toMatchObject({ ticketId: 8, rule: 'message-id' });
  });

  it('then the hidden token, then the conversation id', async () => {
    const tokenOnly = mail({ subject: 'edited subject', body: { type: 'html', content: '<div style="display:none">[sd:9:abcdefabcdef]</div>' }, conversationId: 'other' });
    expect(await findThread(tokenOnly, '', all)).toMatchObject({ ticketId: 9, rule: 'hidden-token' });
    expect(await findThread(mail(), '', all)).toMatchObject({ ticketId: 10, rule: 'conversation-id' });
  });

  it('ignores a reference to a ticket that does not exist and a forged token', async () => {
    const m = mail({ subject: 'RE: [INC-99]', conversationId: null, body: { type: 'text', content: '[sd:9:000000000000]' } });
    expect(await findThread(m, '', all)).toBeUndefined();
  });
});

describe('forwarded mail', () => {
  it("reads the original sender from Outlook's header block", () => {
    const text = 'FYI, please help.\n\n________________________________\nFrom: Dana Ruiz <dana@fabrikam.example>\nSent: Monday, 3 March 2025 10:02\nTo: Megan Bowen <megan@contoso.example>\nSubject: VPN keeps dropping\n\nHi Megan, the VPN...';
    expect(forwardedSender(text)).toEqual({ address: 'dana@fabrikam.example', name: 'Dana Ruiz', subject: 'VPN keeps dropping' });
    expect(forwardedSender('*From:* Dana Ruiz [mailto:Dana@Fabrikam.example]\n*Sent:* Monday\n*Subject:* VPN')).toMatchObject({ address: 'dana@fabrikam.example' });
  });

  it("reads Gmail's and Apple Mail's", () => {
    const gmail = '---------- Forwarded message ---------\nFrom: Dana Ruiz <dana@fabrikam.example>\nDate: Mon, Mar 3, 2025 at 10:02 AM\nSubject: VPN keeps dropping\nTo: <megan@contoso.example>';
    expect(forwardedSender(gmail)).toMatchObject({ address: 'dana@fabrikam.example', subject: 'VPN keeps dropping' });
    const apple = 'Begin forwarded message:\n\nFrom: "Dana Ruiz" <dana@fabrikam.example>\nSubject: VPN keeps dropping\nDate: 3 March 2025 at 10:02:00 CET\nTo: megan@contoso.example';
    expect(forwardedSender(apple)).toMatchObject({ address: 'dana@fabrikam.example', name: 'Dana Ruiz' });
  });

  it('does not mistake a From: in running text for a header block', () => {
    expect(forwardedSender('From: my point of view this is fine.')).toBeUndefined();
  });
});

describe('whether a mail that named a ticket may join it', () => {
  const base = { sender: 'x@fabrikam.example', carriesToken: false, answersOurMail: false, senderFailedAuthentication: false, senderIsVerifiedAgent: false, senderIsParticipant: false };

  it('takes proof of our mail first, then people on the thread, and never a forged From line', () => {
    expect(trustThread(base)).toEqual({ trusted: false, because: "x@fabrikam.example is not on the ticket's mail thread" });
    expect(trustThread({ ...base, senderIsParticipant: true }).trusted).toBe(true);
    expect(trustThread({ ...base, senderIsVerifiedAgent: true }).trusted).toBe(true);
    expect(trustThread({ ...base, senderIsParticipant: true, senderFailedAuthentication: true }).trusted).toBe(false);
    // Holding our token or answering our Message-ID proves receipt whatever the From line says.
    expect(trustThread({ ...base, senderFailedAuthentication: true, carriesToken: true }).trusted).toBe(true);
    expect(trustThread({ ...base, answersOurMail: true }).trusted).toBe(true);
  });

  it('looks up at most ten tokens or references however many a mail carries', () => {
    const started = performance.now();
    const text = Array.from({ length: 50_000 }, (_, i) => `[sd:${i}:0123456789ab]`).join(' ');
    expect(tokensIn(text)).toHaveLength(MAX_LOOKUPS);
    expect(subjectReferences(Array.from({ length: 5_000 }, (_, i) => `[INC-${i + 1}]`).join(' '))).toHaveLength(MAX_LOOKUPS);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
