import { randomBytes } from 'node:crypto';
import { backoffDelay } from '../domain/backoff.js';
import { threadToken } from '../domain/mail/threading.js';
import { isGraphError, type GraphRequestError } from '../integrations/graph/errors.js';
import type { GraphMailClient } from '../integrations/graph/mail-client.js';
import { withCorrelation } from '../log-context.js';
import type { Logger } from '../logger.js';
import { automaticMime, headerSafe, isSafeAddress, safeMailbox, UnsafeMailError } from '../services/mail/mime.js';
import { replyHtml } from '../services/mail/outgoing.js';
import type { Database } from '../store/database.js';
import { claimDueMail, findMailRow, mailSendWasStarted, markMailDead, markMailSendStarted, markMailSent, nextMailDueAt, recordMail, rememberDraft, scheduleMailRetry, type QueuedMail } from '../store/mail.js';
import { addTimelineEntry } from '../store/timeline.js';
import { napUntil, PollingLoop } from './polling-loop.js';

/**
 * Sends queued mail from the support mailbox. An agent's reply is a Graph reply to the customer's
 * latest message (createReply → update → send), so Exchange writes In-Reply-To, References and
 * Thread-Index and Outlook keeps one thread; automatic mail is sent as MIME, where we can mark it
 * Auto-Submitted. Throttling waits what Graph asks; other failures back off; after `maxAttempts` a
 * message is dead-lettered (visible to operators) rather than retried forever.
 *
 * Sent once, not twice: the client does not retry a send where Graph may have taken it (a timeout, a
 * 5xx), and the moment a send begins is written down first (mail_outbox.send_started_at, with the
 * Message-ID it goes out under). An attempt after a begun send, whether the answer was lost or the
 * process died before the mail was marked sent, first looks for that Message-ID in Sent Items.
 *
 * What is left: sendMail answers 202 and Exchange saves the copy to Sent Items only once the message
 * has been sent, which "can take some time" (https://learn.microsoft.com/en-us/graph/api/user-sendmail,
 * https://learn.microsoft.com/en-us/graph/outlook-immutable-id#immutable-id-with-sending-mail). An
 * automatic mail retried and looked up before its copy is there is sent a second time. The retry first
 * waits its backoff (2 s, then longer, by default) on top of the client's timeout that noticed the lost
 * answer, so the window is small; closing it would mean waiting on every retry, which we don't. A
 * reply is safer: its draft is gone from Drafts as soon as it is sent (see sendReply).
 */

export interface MailSenderOptions {
  pollIntervalMs: number;
  batchSize: number;
  leaseMs: number;
  maxAttempts: number;
  backoff: { baseMs: number; capMs: number; jitter: number };
}

export const DEFAULT_MAIL_SENDER_OPTIONS: MailSenderOptions = {
  pollIntervalMs: 15_000,
  batchSize: 20,
  leaseMs: 120_000,
  maxAttempts: 10,
  backoff: { baseMs: 2_000, capMs: 10 * 60_000, jitter: 0.2 },
};

/**
 * The Cc line queued with a reply (the ticket's other mail participants). An address that is not safe
 * to put in a header is left out rather than holding up the reply to the requester.
 */
function ccOf(mail: QueuedMail): Array<{ address: string; name: string }> {
  if (!mail.cc) return [];
  try {
    const list = JSON.parse(mail.cc) as Array<{ address: string; name: string | null }>;
    return Array.isArray(list) ? list.filter((c) => typeof c?.address === 'string' && isSafeAddress(c.address)).map((c) => safeMailbox(c, 'cc')) : [];
  } catch {
    return [];
  }
}

export class MailSender {
  private readonly options: MailSenderOptions;
  private readonly loop: PollingLoop;
  private readonly owner: string;
  private readonly domain: string;
  readonly stats = { sent: 0, retried: 0, dead: 0 };

  constructor(
    private readonly deps: {
      database: Database;
      client: GraphMailClient;
      logger: Logger;
      options?: Partial<MailSenderOptions>;
      /** The replica id (ReplicaHeartbeat.id) its leases are held under, so others can tell when it died. */
      owner?: string;
    },
  ) {
    this.owner = deps.owner ?? `mail-sender:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.options = { ...DEFAULT_MAIL_SENDER_OPTIONS, ...deps.options };
    this.domain = deps.client.mailbox.includes('@') ? deps.client.mailbox.split('@')[1]! : 'service-desk.local';
    this.loop = new PollingLoop({
      round: () => this.sendDue(),
      idleDelay: async () => napUntil(await nextMailDueAt(deps.database.db), Date.now(), this.options.pollIntervalMs),
      onError: (error) => deps.logger.error({ err: error }, 'sending mail failed; retrying at the next poll'),
    });
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One batch of due mail; returns how many were tried. */
  async sendDue(): Promise<number> {
    const { database } = this.deps;
    const claimed = await claimDueMail(database.db, database.dialect, { now: Date.now(), limit: this.options.batchSize, leaseMs: this.options.leaseMs, owner: this.owner });
    for (const mail of claimed) await withCorrelation(mail.correlation_id, () => this.sendOne(mail));
    return claimed.length;
  }

  private async sendOne(mail: QueuedMail): Promise<void> {
    const { database, logger } = this.deps;
    const db = database.db;
    try {
      const messageId = mail.automatic ? await this.sendAutomatic(mail) : await this.sendReply(mail);
      const now = Date.now();
      await db.transaction().execute(async (tx) => {
        await markMailSent(tx, mail.id, messageId, now);
        await recordMail(
          tx,
          { internetMessageId: messageId, direction: 'out', mailboxId: mail.draft_id, ticketId: mail.ticket_id, conversationId: null, fromAddress: this.deps.client.mailbox.toLowerCase(), subject: mail.subject, receivedAt: now, disposition: 'sent', reason: mail.kind, headers: null, body: { type: 'text', content: mail.body } },
          now,
        );
        await addTimelineEntry(tx, {
          ticketId: mail.ticket_id,
          at: now,
          kind: 'email-sent',
          visibility: 'internal',
          authorId: mail.author_id,
          body: `${mail.kind === 'acknowledgement' ? 'Acknowledgement' : 'Reply'} emailed to ${mail.to_address}`,
          data: { messageId, kind: mail.kind },
        });
      });
      this.stats.sent++;
      logger.info({ ticketId: mail.ticket_id, messageId, kind: mail.kind }, 'email sent');
    } catch (error) {
      await this.failed(mail, error);
    }
  }

  /**
   * createReply → PATCH → send; the draft id is remembered so a retry after a crash does not make a
   * second one. A send begun before is checked first, by the draft's Message-ID, in Sent Items. Until
   * the Sent Items copy exists, the draft's immutable id answers 404 (the draft is gone, the copy that
   * takes its id not made yet: https://learn.microsoft.com/en-us/graph/outlook-immutable-id#immutable-id-with-sending-mail),
   * and a 404 after a begun send is taken as sent too. Either way the customer gets it once.
   */
  private async sendReply(mail: QueuedMail): Promise<string> {
    const { client, database } = this.deps;
    const startedBefore = mailSendWasStarted(mail);
    // Graph writes the headers from the JSON fields below, and they hold what customers typed: the
    // same guards as the MIME path, so no subject or name carries a line break and no address another
    // one. Checked before a draft exists, so a refused mail leaves none behind.
    const to = safeMailbox({ address: mail.to_address, name: mail.to_name }, 'recipient');
    const answered = mail.in_reply_to === null ? undefined : await findMailRow(database.db, mail.in_reply_to);
    let draftId = mail.draft_id;
    let draftMessageId: string | null = null;
    if (!draftId) {
      if (!answered?.mailboxId) return this.sendAutomatic(mail);
      try {
        const draft = await client.createReply(answered.mailboxId);
        draftId = draft.id;
        draftMessageId = draft.internetMessageId;
        await rememberDraft(database.db, mail.id, draftId);
        mail.draft_id = draftId;
      } catch (error) {
        // The customer's message is gone from the mailbox (deleted, archived): thread by headers instead.
        if (isGraphError(error, 'not-found')) return this.sendAutomatic(mail);
        throw error;
      }
    }
    const startedAs = mail.internet_message_id;
    if (startedBefore && startedAs && (await this.alreadySent(mail, startedAs))) return startedAs;
    const fallbackId = `<${mail.token}.${mail.id}@${this.domain}>`;
    let messageId: string;
    try {
      const updated = await client.updateDraft(draftId, {
        subject: headerSafe(mail.subject),
        body: { contentType: 'HTML', content: replyHtml(mail.body, mail.ticket_id, mail.token) },
        toRecipients: [{ emailAddress: { address: to.address, ...(to.name ? { name: to.name } : {}) } }],
        // Always set: createReply copies the answered message's recipients, and only ours may stay.
        ccRecipients: ccOf(mail).map((c) => ({ emailAddress: { address: c.address, ...(c.name ? { name: c.name } : {}) } })),
      });
      messageId = updated.internetMessageId ?? draftMessageId ?? startedAs ?? fallbackId;
    } catch (error) {
      // A draft we began to send and that is no longer a draft was sent (Sent Items not showing it yet).
      if (startedBefore && isGraphError(error, 'not-found')) return this.sentEarlier(mail, startedAs ?? fallbackId);
      throw error;
    }
    await markMailSendStarted(database.db, mail.id, Date.now(), messageId);
    try {
      await client.sendDraft(draftId);
    } catch (error) {
      // Sent by an earlier attempt whose answer was lost, or before a crash: done, not a reason to send twice.
      if (startedBefore && isGraphError(error, 'not-found')) return this.sentEarlier(mail, messageId);
      throw error;
    }
    return messageId;
  }

  /** Whether an earlier attempt's send of this mail got through: it is in Sent Items. */
  private async alreadySent(mail: QueuedMail, messageId: string): Promise<boolean> {
    // A lookup that fails fails the attempt, to be retried, rather than risk a second copy.
    if (!(await this.deps.client.sentMessageExists(messageId))) return false;
    this.sentEarlier(mail, messageId);
    return true;
  }

  private sentEarlier(mail: QueuedMail, messageId: string): string {
    this.deps.logger.info({ ticketId: mail.ticket_id, mailId: mail.id, messageId }, 'email sent by an earlier attempt; not sent again');
    return messageId;
  }

  private async sendAutomatic(mail: QueuedMail): Promise<string> {
    const { client, database } = this.deps;
    const answered = mail.in_reply_to === null ? undefined : await findMailRow(database.db, mail.in_reply_to);
    // The same Message-ID on every attempt, so a retry can ask whether an earlier one got through.
    const messageId = `<sd.${mail.id}.${mail.token}@${this.domain}>`;
    const mime = await automaticMime({
      from: client.mailbox,
      to: { address: mail.to_address, name: mail.to_name },
      cc: ccOf(mail),
      subject: mail.subject,
      text: mail.body,
      html: replyHtml(mail.body, mail.ticket_id, mail.token),
      messageId,
      inReplyTo: answered?.internetMessageId ?? null,
      references: answered?.references ?? null,
      token: threadToken(mail.ticket_id, mail.token),
      date: new Date(),
    });
    // A send begun before (its answer lost, or the process gone before it was marked sent) may have
    // been taken: Graph's sendMail answers 202 and delivers after, saving a copy to Sent Items
    // (https://learn.microsoft.com/en-us/graph/api/user-sendmail). Found there, it was sent; sending
    // again would give the customer the mail twice.
    if (mailSendWasStarted(mail) && (await this.alreadySent(mail, messageId))) return messageId;
    await markMailSendStarted(database.db, mail.id, Date.now(), messageId);
    await client.sendMime(mime);
    return messageId;
  }

  private async failed(mail: QueuedMail, error: unknown): Promise<void> {
    const { database, logger } = this.deps;
    const message = error instanceof Error ? error.message : String(error);
    const attempts = mail.attempts + 1;
    // A field that cannot be sent safely will not become safe by waiting: straight to the dead letters
    // (kept, listed by npm run outbox) with the reason, instead of ten doomed attempts.
    const refused = error instanceof UnsafeMailError;
    if (attempts >= this.options.maxAttempts || refused) {
      await markMailDead(database.db, mail.id, message);
      this.stats.dead++;
      logger.error(
        { ticketId: mail.ticket_id, mailId: mail.id, attempts, reason: message },
        refused ? 'email refused: a field cannot be sent safely; dead-lettered, see npm run outbox' : 'email dead-lettered after repeated failures; re-drive with npm run outbox -- retry',
      );
      return;
    }
    const graph = isGraphError(error) ? (error as GraphRequestError) : undefined;
    const wait = graph?.details.retryAfterMs ?? backoffDelay(attempts, this.options.backoff);
    await scheduleMailRetry(database.db, mail.id, Date.now() + wait, message);
    this.stats.retried++;
    logger.warn({ ticketId: mail.ticket_id, mailId: mail.id, attempts, retryInMs: wait, reason: message }, 'email not sent yet; will retry');
  }
}
