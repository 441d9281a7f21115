import { randomUUID } from 'node:crypto';
import { classify, type MailClass } from '../../domain/mail/classify.js';
import { describeRecipient, readDeliveryReport, REPORT_PART_MAX_CHARS, type DeliveryReport, type ReportPart } from '../../domain/mail/delivery-report.js';
import { readBody, TEXT_LIMIT, type ReadBody } from '../../domain/mail/content.js';
import { baseSubject, header, isForwardSubject, mayHaveAttachments, messageIds, normalizeAddress, type InboundMail, type MailAttachment } from '../../domain/mail/message.js';
import { authenticate, type SenderAuthentication } from '../../domain/mail/authentication.js';
import { answeredIds, threadCandidates, forwardedSender, subjectReferences, tokensIn, trustThread, type ThreadMatch, type ThreadTrust } from '../../domain/mail/threading.js';
import { isAgent, type Role } from '../../domain/roles.js';
import { DESCRIPTION_MAX, SUBJECT_MAX, type Priority, type Ticket } from '../../domain/tickets.js';
import type { Logger } from '../../logger.js';
import type { Database, Db } from '../../store/database.js';
import { fileMailUnderTicket, hasThreadToken, isMailRecorded, isOwnMessage, recordMail, sentOnTicket, ticketOfConversation, ticketOfMessageIds, ticketOfSentMessageIds } from '../../store/mail.js';
import { addParticipants, clearBounce, isParticipant } from '../../store/mail-participants.js';
import { addAttachments } from '../../store/mail-attachments.js';
import { contactByEmail, findPerson, findPersonByEmail, type Person } from '../../store/people.js';
import { channelFor } from '../../store/support-teams.js';
import { findTicket } from '../../store/tickets.js';
import { addAudit, addTimelineEntry } from '../../store/timeline.js';
import type { Actor } from '../actors.js';
import type { TicketService } from '../tickets.js';
import type { OutgoingMail } from './outgoing.js';
import type { AttachmentStores } from '../attachments/stores.js';
import { readAttachmentHead, removeStoredAttachments, storeAttachments, type MailSource, type StoredFile } from './attachment-intake.js';

export type { MailSource } from './attachment-intake.js';

/**
 * One received email, turned into what it means for the desk, exactly once: a new ticket (card to the
 * triage channel, acknowledgement to the sender), a reply on the ticket it threads to (cards updated,
 * assignee told), a note that our mail bounced, or nothing (our own mail, robots, lists), always with
 * the reason recorded. The message row (unique by Message-ID), the ticket change, the attachments and
 * the mail and cards it causes are written in one transaction.
 */


export type IngestOutcome =
  | { disposition: 'duplicate' }
  | { disposition: 'filtered'; reason: string }
  | { disposition: 'bounce'; ticketId: number | undefined; reason: string }
  | { disposition: 'ticket'; ticketId: number; reason: string; linkedTo?: number; acknowledgement: string }
  | { disposition: 'reply'; ticketId: number; reason: string };

export interface MailIntakeOptions {
  /** The support mailbox's own addresses: mail from them never opens a ticket. */
  ownAddresses: readonly string[];
  reopenWindowMs: number;
  attachmentMaxBytes: number;
  attachmentDir: string | undefined;
  /** A malware scanner is configured (CLAMD_HOST): kept attachments start `pending`. */
  scanAttachments?: boolean;
  /** The attachment stores (ATTACHMENT_STORE); without them, ATTACHMENT_DIR or the row as before. */
  stores?: AttachmentStores;
}

const EMAIL_PRIORITY: Priority = 'P3';

export class MailIntake {
  private readonly own: Set<string>;
  /** Our organisation's mail domains (the support mailbox's): a sender there claims to be a colleague. */
  private readonly ownDomains: Set<string>;

  constructor(
    private readonly deps: {
      database: Database;
      tickets: TicketService;
      outgoing: OutgoingMail;
      source: MailSource;
      options: MailIntakeOptions;
      logger: Logger;
      clock?: () => number;
      /** After a commit that queued cards or mail. */
      onEnqueued?: () => void;
      /** The sender's role as configuration and support teams say (not only as stored). */
      roleOf?: (person: Person) => Promise<Role>;
    },
  ) {
    this.own = new Set(deps.options.ownAddresses.map(normalizeAddress));
    this.ownDomains = new Set([...this.own].map((a) => a.split('@')[1] ?? '').filter(Boolean));
  }

  private get db(): Db {
    return this.deps.database.db;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** `attachments`: the message's attachments when the caller already fetched them. */
  async ingest(mail: InboundMail, attachments?: Promise<MailAttachment[]>): Promise<IngestOutcome> {
    if (await isMailRecorded(this.db, mail.internetMessageId)) return { disposition: 'duplicate' };
    let verdict = classify(mail, this.own);
    if (verdict.kind === 'person' && (await isOwnMessage(this.db, mail.internetMessageId))) verdict = { kind: 'own' };
    if (verdict.kind === 'own' || verdict.kind === 'auto-reply' || verdict.kind === 'mailing-list') {
      const reason = verdict.kind === 'own' ? 'our own mail' : `${verdict.kind}: ${verdict.because}`;
      const recorded = await recordMail(this.db, this.stored(mail, 'filtered', reason, null), this.now());
      return recorded === undefined ? { disposition: 'duplicate' } : { disposition: 'filtered', reason };
    }

    // Read in slices that yield to the event loop: a 5 MB body must not hold up chat turns meanwhile.
    const body = await readBody(mail.body);
    const text = body.text;
    const fetched = mayHaveAttachments(mail) ? await (attachments ?? this.deps.source.attachments(mail)) : [];
    if (verdict.kind === 'bounce') return this.bounce(mail, text, fetched, verdict);

    const candidates = await threadCandidates(mail, text, {
      ticketExists: async (id) => (await findTicket(this.db, id)) !== undefined,
      ticketByMessageIds: (ids) => ticketOfMessageIds(this.db, ids),
      ticketByToken: (id, token) => hasThreadToken(this.db, id, token),
      ticketByConversation: (id) => ticketOfConversation(this.db, id),
    });
    // Who the sender is, decided before the transaction (role lookups read outside it). An agent's or a
    // colleague's address counts as theirs only when the receiving server confirmed it.
    const sender = await this.sender(mail);
    // The first ticket found that the sender may join; failing that, the first found (to link it).
    let thread: (ThreadMatch & { trust: ThreadTrust }) | undefined;
    for (const candidate of candidates) {
      const trust = await this.trust(mail, text, candidate, sender);
      thread ??= { ...candidate, trust };
      if (trust.trusted) {
        thread = { ...candidate, trust };
        break;
      }
    }
    const files = await storeAttachments(this.deps.source, mail, fetched, this.deps.options);
    try {
      const outcome = await this.db.transaction().execute((tx) => this.apply(tx, mail, body, thread, files, sender));
      if (outcome.disposition === 'duplicate') await removeStoredAttachments(files);
      else this.deps.onEnqueued?.();
      return outcome;
    } catch (error) {
      await removeStoredAttachments(files);
      throw error;
    }
  }

  private async sender(mail: InboundMail): Promise<Sender> {
    const auth = authenticate(mail);
    const address = mail.from ? normalizeAddress(mail.from.address) : '';
    const known = address ? await findPersonByEmail(this.db, address) : undefined;
    const claimed = known ? ((await this.deps.roleOf?.(known)) ?? known.role) : 'requester';
    const insider = isAgent(claimed) ? 'an agent' : this.ownDomains.has(address.split('@')[1] ?? '') ? 'a colleague' : undefined;
    const verified = auth.verdict === 'pass';
    return {
      address,
      auth,
      role: isAgent(claimed) && verified ? claimed : 'requester',
      check: insider && !verified ? `not verified: the receiving server could not confirm that ${address} (${insider}) sent it (${auth.evidence})` : null,
    };
  }

  /** Whether the sender of a mail that named a ticket may write on it (see trustThread). */
  private async trust(mail: InboundMail, text: string, thread: ThreadMatch, sender: Sender): Promise<ThreadTrust> {
    const ticketId = thread.ticketId;
    const tokens = tokensIn(`${text}\n${mail.body.content.slice(0, TEXT_LIMIT)}`).filter((t) => t.ticketId === ticketId);
    let carriesToken = false;
    for (const t of tokens) {
      carriesToken = await hasThreadToken(this.db, ticketId, t.secret);
      if (carriesToken) break;
    }
    const ticket = await findTicket(this.db, ticketId);
    const requester = ticket ? await findPerson(this.db, ticket.requesterId) : undefined;
    return trustThread({
      sender: sender.address || 'an unknown sender',
      carriesToken,
      answersOurMail: await sentOnTicket(this.db, ticketId, answeredIds(mail)),
      senderFailedAuthentication: sender.auth.verdict === 'fail',
      senderIsVerifiedAgent: isAgent(sender.role),
      senderIsParticipant: sender.address !== '' && (requester?.email?.toLowerCase() === sender.address || (await isParticipant(this.db, ticketId, sender.address))),
    });
  }

  /** Records a message that could not be read at all, so it is skipped from now on and visible to operators. */
  async recordUnreadable(message: { mailboxId: string | undefined; internetMessageId: string | undefined }, problem: string): Promise<void> {
    const id = message.internetMessageId ?? `<unreadable.${message.mailboxId ?? randomUUID()}@service-desk.invalid>`;
    await recordMail(
      this.db,
      { internetMessageId: id, direction: 'in', mailboxId: message.mailboxId ?? null, ticketId: null, conversationId: null, fromAddress: null, subject: '', receivedAt: this.now(), disposition: 'poison', reason: problem.slice(0, 1000), headers: null, body: null },
      this.now(),
    );
  }

  private async apply(tx: Db, mail: InboundMail, { text, newPart }: ReadBody, thread: (ThreadMatch & { trust: ThreadTrust }) | undefined, files: StoredFile[], from: Sender): Promise<IngestOutcome> {
    const now = this.now();
    const mailId = await recordMail(tx, { ...this.stored(mail, 'ticket', null, null), senderCheck: from.check }, now);
    if (mailId === undefined) return { disposition: 'duplicate' };
    const sender = await contactByEmail(tx, { email: mail.from?.address ?? 'unknown@invalid', name: mail.from?.name ?? '' }, now);
    const actor: Actor = { person: sender, role: from.role === 'outsider' ? 'requester' : from.role };
    const origin = { messageId: mail.internetMessageId, from: mail.from?.address ?? null, ...(from.check ? { senderCheck: from.check } : {}) };

    let linked: { ticketId: number; why: string } | undefined;
    if (thread) {
      const ticket = await findTicket(tx, thread.ticketId);
      if (ticket && thread.trust.trusted && this.stillOpenFor(ticket, now)) {
        const result = await this.deps.tickets.receiveEmail(actor, ticket.id, newPart, { ...origin, rule: thread.rule, evidence: thread.evidence, trusted: thread.trust.because }, tx);
        if (!result.ok) throw new Error(`could not add the email to ${ticket.reference}: ${result.reason}`);
        await this.addThreadPeople(tx, ticket.id, mail, undefined, now);
        await this.finish(tx, mailId, ticket.id, 'reply', thread.rule, files, now);
        return { disposition: 'reply', ticketId: ticket.id, reason: thread.rule };
      }
      // A stranger's mail that only shares a subject (Graph's conversation hint) named nothing: no link.
      if (ticket && (thread.trust.trusted || thread.rule !== 'conversation-id')) {
        linked = thread.trust.trusted
          ? { ticketId: ticket.id, why: `an email on it after it was ${ticket.status}` }
          : { ticketId: ticket.id, why: `the email named it, but ${thread.trust.because}, so it opened a ticket of its own; if it belongs there, copy it over and resolve this one` };
      }
    }

    // A new ticket: for the sender, or, when an agent forwards a customer's mail, for that customer.
    // The forwarded header block is near the top: a long body is not searched to its end.
    const forward = isAgent(actor.role) && isForwardSubject(mail.subject) ? forwardedSender(text.slice(0, FORWARD_HEADER_WITHIN)) : undefined;
    const requester: Person = forward ? await contactByEmail(tx, { email: forward.address, name: forward.name }, now) : sender;
    const subjectText = subjectOf(forward?.subject ?? baseSubject(mail.subject), newPart);
    const description = clip(forward ? text : newPart, DESCRIPTION_MAX);
    const triage = await channelFor(tx, 'triage');
    const rule = forward ? 'forwarded' : linked !== undefined ? (thread!.trust.trusted ? 'follow-up' : 'untrusted-reference') : 'new';
    const created = await this.deps.tickets.create(
      { actor, surface: 'email' },
      {
        type: 'incident',
        subject: subjectText,
        description,
        priority: importancePriority(mail) ?? EMAIL_PRIORITY,
        teamId: triage?.teamId ?? null,
        source: 'email',
        postTo: triage ? [triage.conversationRefId] : [],
        requesterId: requester.id,
        origin: { email: { ...origin, rule } },
      },
      tx,
    );
    if (!created.ok) throw new Error(`could not open a ticket for the email: ${created.reason}`);
    const ticket = created.value;
    await this.addThreadPeople(tx, ticket.id, mail, forward, now);
    if (linked !== undefined) await this.link(tx, ticket, linked, thread!, now);
    await this.finish(tx, mailId, ticket.id, 'ticket', forward ? 'forwarded' : linked !== undefined ? `${rule} of #${linked.ticketId}` : 'new', files, now);

    // Robots were filtered out above; a forward's customer did not write to us, so is not acknowledged;
    // a sender the receiving server could not confirm may be someone else's forged address (backscatter).
    const acknowledgement = forward
      ? 'not sent (forwarded by an agent)'
      : from.auth.verdict !== 'pass'
        ? `not sent (sender not authenticated: ${from.auth.evidence})`
        : await this.deps.outgoing.queueAcknowledgement(tx, ticket, { mailId, address: sender.email ?? mail.from?.address ?? '', name: sender.name, subject: mail.subject }, now);
    return { disposition: 'ticket', ticketId: ticket.id, reason: forward ? 'forwarded' : rule, ...(linked !== undefined ? { linkedTo: linked.ticketId } : {}), acknowledgement };
  }

  /**
   * The people a mail filed under a ticket brings onto its thread: its sender and the other recipients
   * (not our own addresses); for an agent's forward, the customer it was forwarded for instead of the agent.
   */
  private async addThreadPeople(tx: Db, ticketId: number, mail: InboundMail, forward: { address: string; name: string } | undefined, now: number): Promise<void> {
    const people = forward ? [forward] : [...(mail.from ? [mail.from] : []), ...mail.to, ...mail.cc];
    await addParticipants(tx, ticketId, people.filter((p) => !this.own.has(normalizeAddress(p.address))).map((p) => ({ address: p.address, name: p.name })), now);
    if (mail.from && !forward) await clearBounce(tx, ticketId, mail.from.address);
  }

  /** A resolved ticket reopens within the window; a closed one (or resolved long ago) gets a follow-up ticket. */
  private stillOpenFor(ticket: Ticket, now: number): boolean {
    if (ticket.status === 'closed') return false;
    if (ticket.status === 'resolved') return ticket.resolvedAt !== null && now - ticket.resolvedAt <= this.deps.options.reopenWindowMs;
    return true;
  }

  private async link(tx: Db, ticket: Ticket, linked: { ticketId: number; why: string }, thread: ThreadMatch & { trust: ThreadTrust }, now: number): Promise<void> {
    const previous = await findTicket(tx, linked.ticketId);
    const name = previous?.reference ?? `#${linked.ticketId}`;
    // Not before the ticket's own "created" entry, so the card's latest line is why it exists.
    now = Math.max(now, ticket.createdAt);
    const data = { ticketId: linked.ticketId, rule: thread.rule, trusted: thread.trust.trusted, because: thread.trust.because };
    await addTimelineEntry(tx, { ticketId: ticket.id, at: now, kind: 'linked', visibility: 'internal', authorId: null, body: `${thread.trust.trusted ? 'Follow-up' : 'Named'} ${name}: ${linked.why}`, data });
    const back = thread.trust.trusted ? `A later email opened ${ticket.reference}` : `An email named this ticket but did not join it (${thread.trust.because}); it opened ${ticket.reference}`;
    await addTimelineEntry(tx, { ticketId: linked.ticketId, at: now, kind: 'linked', visibility: 'internal', authorId: null, body: back, data: { ticketId: ticket.id, trusted: thread.trust.trusted } });
  }

  private async finish(tx: Db, mailId: number, ticketId: number, disposition: 'ticket' | 'reply', reason: string, files: StoredFile[], now: number): Promise<void> {
    await fileMailUnderTicket(tx, mailId, ticketId, { disposition, reason });
    // With a scanner configured, kept contents wait for its verdict before anyone may download them.
    const scan = (f: StoredFile) => (this.deps.options.scanAttachments && f.row.storage !== 'link' ? 'pending' : 'not_scanned');
    await addAttachments(tx, files.map((f) => ({ ...f.row, mailId, ticketId, scanState: scan(f) })), now);
  }

  /**
   * A report about mail we sent: a bounce (RFC 3464 or a server's own notice), a delay, or a feedback
   * report (someone marked it as spam). Matched to its ticket by the returned message's Message-ID, our
   * token or the reference in its subject; a failure flags each address on the ticket's mail thread and
   * tells the assignee (TicketService.deliveryFailed).
   */
  private async bounce(mail: InboundMail, text: string, attachments: MailAttachment[], verdict: Extract<MailClass, { kind: 'bounce' }>): Promise<IngestOutcome> {
    const parts: ReportPart[] = [];
    for (const a of attachments) {
      if (parts.length >= MAX_REPORT_PARTS || !REPORT_PARTS.test(a.kind === 'item' ? 'message/rfc822' : a.contentType)) continue;
      const head = await readAttachmentHead(this.deps.source, mail, a, REPORT_PART_MAX_CHARS);
      if (head) parts.push({ contentType: a.kind === 'item' ? 'message/rfc822' : a.contentType, text: head.toString('utf8') });
    }
    const report = readDeliveryReport(mail, parts);
    const ticketId = await this.bouncedTicket(mail, report, [text, ...parts.map((p) => p.text)].join('\n'));
    const now = this.now();
    const origin = { messageId: mail.internetMessageId, reportingMta: report.reportingMta, kind: verdict.report === 'feedback' ? 'feedback' : report.kind };
    const outcome = await this.db.transaction().execute(async (tx) => {
      const mailId = await recordMail(tx, this.stored(mail, 'bounce', verdict.because, ticketId ?? null), now);
      if (mailId === undefined || ticketId === undefined) return mailId;
      const failed = report.recipients.filter((r) => r.action === 'failed' || (r.action === null && !r.status?.startsWith('4') && !r.status?.startsWith('2')));
      if (verdict.report === 'feedback' || failed.length === 0) {
        // A delay or a spam complaint: worth knowing on the ticket, not a reason to flag an address.
        const body =
          verdict.report === 'feedback'
            ? `A recipient's mail provider reports that our email on this ticket was marked as spam${report.recipients[0] ? ` (${report.recipients[0].address})` : ''}`
            : report.recipients.length > 0
              ? report.recipients.map(describeRecipient).join('; ')
              : `Our email on this ticket bounced: ${mail.subject || 'delivery failure'}`;
        await addTimelineEntry(tx, { ticketId, at: now, kind: 'email-bounced', visibility: 'internal', authorId: null, body: upperFirst(body), data: { email: origin, recipients: report.recipients } });
        await addAudit(tx, { at: now, actorId: null, action: 'ticket.email-bounced', ticketId, surface: 'email', details: { messageId: mail.internetMessageId } });
        return mailId;
      }
      const failures = failed.map((r) => ({ address: r.address, reason: describeRecipient(r).replace(/^could not deliver to [^:]+: /, '') }));
      const result = await this.deps.tickets.deliveryFailed(ticketId, failures, origin, tx);
      if (!result.ok) throw new Error(`could not note the bounce on #${ticketId}: ${result.reason}`);
      await addAudit(tx, { at: now, actorId: null, action: 'ticket.email-bounced', ticketId, surface: 'email', details: { messageId: mail.internetMessageId, recipients: failures.map((f) => f.address) } });
      return mailId;
    });
    return outcome === undefined ? { disposition: 'duplicate' } : { disposition: 'bounce', ticketId, reason: verdict.because };
  }

  /**
   * The ticket whose mail a report returns, only on proof that it is about mail we sent: the returned
   * Message-ID (in the report's parts, its headers or its quoted text) is one of ours, or it carries our
   * token. Anyone can write "[INC-42]" in a fake bounce, so a reference alone matches nothing.
   */
  private async bouncedTicket(mail: InboundMail, report: DeliveryReport, evidence: string): Promise<number | undefined> {
    const quoted = messageIds(evidence.match(/^(?:Message-ID|In-Reply-To|References)[ \t]*:.{0,2000}$/gim)?.slice(0, 20).join(' '));
    const ids = [...report.originalMessageIds, ...messageIds(header(mail, 'in-reply-to')), ...messageIds(header(mail, 'references')), ...quoted];
    const bySentId = await ticketOfSentMessageIds(this.db, ids);
    if (bySentId !== undefined) return bySentId;
    for (const token of tokensIn(evidence)) if (await hasThreadToken(this.db, token.ticketId, token.secret)) return token.ticketId;
    return undefined;
  }

  private stored(mail: InboundMail, disposition: 'ticket' | 'filtered' | 'bounce', reason: string | null, ticketId: number | null) {
    return {
      internetMessageId: mail.internetMessageId,
      direction: 'in' as const,
      mailboxId: mail.mailboxId,
      ticketId,
      conversationId: mail.conversationId,
      fromAddress: mail.from?.address ?? null,
      subject: mail.subject,
      receivedAt: mail.receivedAt,
      disposition,
      reason,
      headers: [...mail.headers].flatMap(([name, values]) => values.map((value) => ({ name, value }))),
      body: mail.body,
    };
  }
}

interface Sender {
  /** Lower-cased, or empty when the mail had no From. */
  address: string;
  auth: SenderAuthentication;
  /** The desk role the mail acts with: an agent's only when the receiving server confirmed the address. */
  role: Role;
  /** Set when the sender claims to be an agent or a colleague and that could not be confirmed. */
  check: string | null;
}

/** Attachments a report's evidence can be in: its status part, the returned message or its headers, its text. */
const REPORT_PARTS = /^(message\/(global-)?(delivery-status|disposition-notification|feedback-report|rfc822|global|partial)|(text|message)\/(global-)?(rfc822-)?headers|text\/plain)\b/i;
const MAX_REPORT_PARTS = 10;

/** How far into a forward's text its forwarded header block is looked for. */
const FORWARD_HEADER_WITHIN = 64 * 1024;

const upperFirst = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function clip(text: string, max: number): string {
  const marker = '\n\n(shortened here; the whole email is kept with the ticket)';
  return text.length <= max ? text : `${text.slice(0, max - marker.length)}${marker}`;
}

/** The subject line (without ticket references), or the first words of the body when the mail had none. */
function subjectOf(subject: string, newPart: string): string {
  const line = subject.replace(/\s*\[\s*(?:INC|REQ)\s*-\s*\d+\s*\]\s*/gi, ' ').trim() || newPart.split('\n').find((l) => l.trim())?.trim() || '(no subject)';
  return line.length > SUBJECT_MAX ? `${line.slice(0, SUBJECT_MAX - 1)}…` : line;
}

/** `Importance: high` or `X-Priority: 1/2` makes a ticket P2; nothing makes it more urgent unasked. */
function importancePriority(mail: InboundMail): Priority | undefined {
  const importance = header(mail, 'importance')?.trim().toLowerCase();
  const xPriority = header(mail, 'x-priority')?.trim();
  return importance === 'high' || /^[12]\b/.test(xPriority ?? '') ? 'P2' : undefined;
}
