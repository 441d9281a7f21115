import { randomBytes } from 'node:crypto';
import { backoffDelay } from '../domain/backoff.js';
import { isGraphError } from '../integrations/graph/errors.js';
import type { GraphMailClient, DeltaPage } from '../integrations/graph/mail-client.js';
import { parseGraphMessage } from '../integrations/graph/message-schema.js';
import { cardMessage } from '../cards/adaptive-card.js';
import { quarantineCard } from '../cards/quarantine-card.js';
import { mayHaveAttachments, type InboundMail, type MailAttachment } from '../domain/mail/message.js';
import { correlationId, withCorrelation } from '../log-context.js';
import type { Logger } from '../logger.js';
import { attachmentsWithReportParts } from '../services/mail/attachment-intake.js';
import type { IngestOutcome, MailIntake, MailSource } from '../services/mail/intake.js';
import type { Database, Db } from '../store/database.js';
import { isStoreUnavailable } from '../store/database.js';
import { deleteMailState, leaseMailState, readMailState, releaseMailLease, writeMailState } from '../store/mail.js';
import { beginAttempt, failAttempt, finishAttempt, knownAttempts, quarantine, releaseAttempt, retriesRequested, type MailAttempt } from '../store/mail-quarantine.js';
import { enqueue } from '../store/outbox.js';
import { channelFor } from '../store/support-teams.js';
import { PollingLoop } from './polling-loop.js';

/**
 * Reads the support mailbox's Inbox by delta query and hands each new message to intake. The cursor
 * (a nextLink inside a round, the deltaLink between rounds) is stored only after every message of the
 * page it follows is committed, so a crash re-reads at most that page, and intake's unique Message-ID
 * makes the re-read harmless. With a public URL it also keeps a change-notification subscription
 * alive, and a notification starts a round at once; polling stays on as the safety net.
 *
 * Poison mail cannot stall the mailbox: each message is written down as in progress before intake
 * reads it (store/mail-quarantine.ts), and has a time limit. One that failed, ran out of time, or was
 * left in progress by a process that died (a crash, an out-of-memory kill, an event loop blocked until
 * a watchdog restarted it), twice, is quarantined at once the next time it comes up, without reading it
 * again: the cursor moves on and the triage channel gets a card saying what admins can do
 * (`npm run mail -- retry|drop <id>`). A retry an admin asks for is read at the start of the next round.
 *
 * Longer than most modules: the delta round, the mailbox-cursor lease and the subscription's life
 * (create, renew, recreate, lifecycle events) share the cursor state they guard, so they stay together.
 */

export interface MailSyncOptions {
  pollIntervalMs: number;
  /** Public URL of /api/notifications/graph; unset → polling only. */
  notificationUrl: string | undefined;
  subscriptionMinutes: number;
  /** How far back the very first round looks. */
  backfillMs: number;
  /** Only one replica reads the mailbox at a time; a dead reader's lease runs out after this. */
  leaseMs: number;
  backoff: { baseMs: number; capMs: number; jitter: number };
  /**
   * How long intake may take over one message before the attempt counts as failed. An attempt that
   * blocks the event loop cannot be timed out from inside; its in-progress record catches it at the next start.
   */
  messageTimeoutMs: number;
}

export const DEFAULT_MAIL_SYNC_OPTIONS: MailSyncOptions = {
  pollIntervalMs: 30_000,
  notificationUrl: undefined,
  subscriptionMinutes: 4_230,
  backfillMs: 24 * 3_600_000,
  leaseMs: 30_000,
  backoff: { baseMs: 1_000, capMs: 5 * 60_000, jitter: 0.2 },
  messageTimeoutMs: 60_000,
};

/** What became of a message read: intake's disposition, or it was unreadable, quarantined, or dropped by an admin. */
export type Handled = IngestOutcome['disposition'] | 'unreadable' | 'quarantined' | 'dropped';

export interface SyncStats {
  /** Rounds begun and rounds finished (successfully or not): equal when no round is running. */
  roundsStarted: number;
  rounds: number;
  pages: number;
  ingested: Record<Handled, number>;
  lastSyncAt: number | undefined;
  lastError: string | undefined;
}

interface StoredSubscription {
  id: string;
  expiresAt: number;
  clientState: string;
  createdAt: number;
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export class MailSync {
  private readonly options: MailSyncOptions;
  private readonly loop: PollingLoop;
  private readonly cursorKey: string;
  private readonly subscriptionKey: string;
  private readonly owner: string;
  private failures = 0;
  private retryAt = 0;
  private resubscribe = false;
  private renewSoon = false;
  private clientStateMemo: { value: string | undefined; until: number } = { value: undefined, until: 0 };
  private readonly source: MailSource;
  readonly stats: SyncStats = {
    roundsStarted: 0,
    rounds: 0,
    pages: 0,
    ingested: { duplicate: 0, filtered: 0, bounce: 0, ticket: 0, reply: 0, unreadable: 0, quarantined: 0, dropped: 0 },
    lastSyncAt: undefined,
    lastError: undefined,
  };

  constructor(
    private readonly deps: {
      database: Database;
      client: GraphMailClient;
      intake: MailIntake;
      logger: Logger;
      options?: Partial<MailSyncOptions>;
      /** Told what became of each message read (metrics). */
      onIngested?: (disposition: string, reason: string) => void;
      /** The replica id (ReplicaHeartbeat.id) its leases are held under, so others can tell when it died. */
      owner?: string;
      /** After a commit that queued a card (a quarantined email), so the outbox worker looks at once. */
      onEnqueued?: () => void;
    },
  ) {
    this.owner = deps.owner ?? `mail-sync:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.options = { ...DEFAULT_MAIL_SYNC_OPTIONS, ...deps.options };
    this.source = MailSync.source(deps.client);
    this.cursorKey = `delta:${deps.client.mailbox.toLowerCase()}`;
    this.subscriptionKey = `subscription:${deps.client.mailbox.toLowerCase()}`;
    this.loop = new PollingLoop({
      round: () => this.round(),
      // After a failure, try again when the backoff (or Graph's Retry-After) says; otherwise at the next poll.
      idleDelay: async () => (this.retryAt > Date.now() ? this.retryAt - Date.now() : this.options.pollIntervalMs),
      onError: (error) => this.failed(error),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Read the mailbox now (a change notification arrived). */
  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await releaseMailLease(this.deps.database.db, this.cursorKey, this.owner).catch(() => undefined);
  }

  /** Whether a notification's clientState is the one our subscription was made with. */
  async clientStateMatches(state: string | undefined): Promise<boolean> {
    if (!state) return false;
    // The stored state is re-read at most every 10 s, whatever is asked: a flood of wrong ones costs no
    // query (a subscription another replica made is seen within those 10 s; Graph retries meanwhile).
    if (this.clientStateMemo.until < Date.now()) {
      this.clientStateReload ??= this.subscription()
        .then((stored) => {
          this.clientStateMemo = { value: stored?.clientState, until: Date.now() + 10_000 };
        })
        .finally(() => (this.clientStateReload = undefined));
      await this.clientStateReload;
    }
    return this.clientStateMemo.value === state;
  }
  private clientStateReload: Promise<void> | undefined;

  /** A lifecycle notification: renew, recreate, or catch up, as Graph asks. */
  lifecycle(event: LifecycleEvent): void {
    this.deps.logger.info({ event }, 'mail subscription lifecycle event');
    if (event === 'subscriptionRemoved') this.resubscribe = true;
    if (event === 'reauthorizationRequired') this.renewSoon = true;
    this.wake();
  }

  /**
   * One round: subscription upkeep, then the delta pages up to the deltaLink. Returns 0 for the polling
   * loop: a round reads everything there is, so the loop sleeps until the next poll or notification.
   */
  async round(): Promise<number> {
    this.stats.roundsStarted++;
    try {
      await this.roundOnce();
    } finally {
      this.stats.rounds++;
    }
    return 0;
  }

  private async roundOnce(): Promise<void> {
    if (Date.now() < this.retryAt) return;
    const db = this.deps.database.db;
    if (!(await leaseMailState(db, this.cursorKey, this.owner, Date.now(), this.options.leaseMs))) return;
    if (this.options.notificationUrl) await this.keepSubscription();
    await this.readRetries();
    await this.readDelta();
    this.failures = 0;
    this.stats.lastSyncAt = Date.now();
    this.stats.lastError = undefined;
  }

  private async readDelta(): Promise<number> {
    const { client, database } = this.deps;
    const db = database.db;
    let cursor = (await readMailState(db, this.cursorKey)) || undefined;
    let page: DeltaPage;
    try {
      page = cursor ? await client.deltaNext(cursor) : await client.deltaStart(new Date(Date.now() - this.options.backfillMs));
    } catch (error) {
      // An expired or unknown delta token: start a new round from a day back; already-seen mail is skipped.
      if (cursor && isGraphError(error, 'not-found')) {
        this.deps.logger.warn('the mailbox cursor expired; reading the last day again (messages already seen are skipped)');
        await writeMailState(db, this.cursorKey, '', Date.now());
        cursor = undefined;
        page = await client.deltaStart(new Date(Date.now() - this.options.backfillMs));
      } else throw error;
    }
    let handled = 0;
    for (;;) {
      this.stats.pages++;
      // The next page is fetched while this one is committed (and the page's attachment lists in
      // parallel, see ingestPage): Graph allows four requests at once per mailbox.
      const next = page.nextLink ? client.deltaNext(page.nextLink) : undefined;
      next?.catch(() => undefined);
      handled += await this.ingestPage(page);
      const link = page.nextLink ?? page.deltaLink;
      if (link) await writeMailState(db, this.cursorKey, link, Date.now());
      if (!(await leaseMailState(db, this.cursorKey, this.owner, Date.now(), this.options.leaseMs))) throw new Error('lost the mailbox lease to another replica');
      if (!next) break;
      page = await next;
    }
    return handled;
  }

  private async ingestPage(page: DeltaPage): Promise<number> {
    const { intake, logger, database, client } = this.deps;
    const parsed = page.messages.map((raw) => ({ raw, parse: parseGraphMessage(raw) }));
    // The page's attachment lists (names and sizes, never contents) are fetched in parallel, as Graph
    // allows four requests at once per mailbox; not for messages already in trouble, which are not read again.
    const troubled = await knownAttempts(database.db, client.mailbox, parsed.flatMap(({ parse }) => (parse.ok ? [parse.mail.mailboxId] : [])));
    const listings = new Map<string, Promise<MailAttachment[]>>();
    for (const { parse } of parsed) {
      if (parse.ok && mayHaveAttachments(parse.mail) && !troubled.has(parse.mail.mailboxId)) {
        const listing = this.source.attachments(parse.mail);
        listing.catch(() => undefined);
        listings.set(parse.mail.mailboxId, listing);
      }
    }
    let handled = 0;
    for (const { parse } of parsed) {
      if (!parse.ok) {
        logger.warn({ mailboxId: parse.id, messageId: parse.internetMessageId, problem: parse.problem }, 'skipped an unreadable email (recorded as poison)');
        await intake.recordUnreadable({ mailboxId: parse.id, internetMessageId: parse.internetMessageId }, parse.problem);
        this.stats.ingested.unreadable++;
        this.deps.onIngested?.('poison', 'unreadable');
        continue;
      }
      const outcome = await withCorrelation(correlationId('mail', parse.mail.internetMessageId), () => this.ingestOne(parse.mail, listings.get(parse.mail.mailboxId)));
      this.stats.ingested[outcome]++;
      handled++;
    }
    return handled;
  }

  /**
   * Ingests one message under its in-progress record, within the time limit; a message that fails or
   * runs out of time for reasons of its own is tried once more, then quarantined. `listing`: its
   * attachments as already listed (used by the first attempt only).
   */
  private async ingestOne(mail: InboundMail, listing: Promise<MailAttachment[]> | undefined): Promise<Handled> {
    const { intake, logger, database, client } = this.deps;
    const db = database.db;
    const summary = { mailboxId: mail.mailboxId, internetMessageId: mail.internetMessageId, subject: mail.subject, fromAddress: mail.from?.address ?? null, receivedAt: mail.receivedAt };
    for (let first = true; ; first = false) {
      // Each attempt may take up to the time limit: the mailbox stays ours that long (a replica that
      // dies meanwhile frees it at once through its heartbeat), so no other replica reads this message too.
      if (!(await leaseMailState(db, this.cursorKey, this.owner, Date.now(), this.options.leaseMs + this.options.messageTimeoutMs))) {
        throw new Error('lost the mailbox lease to another replica');
      }
      const begun = await beginAttempt(db, client.mailbox, summary, { owner: this.owner, now: Date.now(), onQuarantined: (tx, attempt) => this.tellAdmins(tx, attempt) });
      if (!begun.go) {
        if (begun.state === 'done') return 'duplicate';
        if (begun.newly) this.quarantined(begun.attempt!);
        return begun.state;
      }
      try {
        const outcome = await this.withinTimeLimit(intake.ingest(mail, first ? listing : undefined));
        await finishAttempt(db, begun.id);
        if (outcome.disposition !== 'duplicate') {
          this.deps.onIngested?.(outcome.disposition, outcome.disposition === 'filtered' ? outcome.reason.split(':')[0]! : outcome.disposition === 'bounce' ? 'bounce' : 'reason' in outcome ? outcome.reason.split(' ')[0]! : '');
          logger.info(
            { messageId: mail.internetMessageId, disposition: outcome.disposition, reason: 'reason' in outcome ? outcome.reason : undefined, ticketId: 'ticketId' in outcome ? outcome.ticketId : undefined },
            'email ingested',
          );
        }
        return outcome.disposition;
      } catch (error) {
        // Graph or the database being unavailable is not the message's fault: the attempt does not
        // count; stop the round and keep the cursor.
        if ((isGraphError(error) && error.retryable) || isStoreUnavailable(error)) {
          await releaseAttempt(db, begun.id, begun.retry ? 'retry' : 'failed', Date.now());
          throw error;
        }
        const problem = error instanceof Error ? error.message : String(error);
        await failAttempt(db, begun.id, problem, Date.now());
        logger.warn({ err: error, messageId: mail.internetMessageId, attempt: begun.attempt }, 'an email could not be ingested; it is quarantined after two failed attempts');
      }
    }
  }

  /** Races intake against the per-message time limit. An attempt left behind may still settle later; its result is ignored. */
  private async withinTimeLimit<T>(work: Promise<T>): Promise<T> {
    const limit = this.options.messageTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`reading it took longer than the ${limit >= 1000 ? `${Math.round(limit / 1000)} s` : `${limit} ms`} allowed per message`)), limit);
    });
    work.catch(() => undefined);
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Retries admins asked for (`npm run mail -- retry <id>`): each message is fetched again and gets one more attempt. */
  private async readRetries(): Promise<void> {
    const { client, database, logger } = this.deps;
    for (const request of await retriesRequested(database.db, client.mailbox)) {
      let raw: unknown;
      try {
        raw = await client.message(request.mailboxId);
      } catch (error) {
        if (!isGraphError(error, 'not-found')) throw error;
        await quarantine(database.db, request.id, 'it is no longer in the mailbox (deleted or moved), so it cannot be read again', Date.now());
        logger.warn({ quarantineId: request.id, mailboxId: request.mailboxId }, 'a quarantined email to read again is no longer in the mailbox');
        continue;
      }
      const parse = parseGraphMessage(raw);
      if (!parse.ok) {
        await quarantine(database.db, request.id, `unreadable: ${parse.problem}`, Date.now());
        continue;
      }
      const outcome = await withCorrelation(correlationId('mail', parse.mail.internetMessageId), () => this.ingestOne(parse.mail, undefined));
      this.stats.ingested[outcome]++;
      logger.info({ quarantineId: request.id, messageId: parse.mail.internetMessageId, outcome }, 'a quarantined email was read again');
    }
  }

  private quarantined(attempt: MailAttempt): void {
    this.deps.logger.error(
      { quarantineId: attempt.id, messageId: attempt.internetMessageId, mailboxId: attempt.mailboxId, attempts: attempt.attempts, reason: attempt.reason },
      'an email was quarantined; the mailbox goes on without it (npm run mail -- quarantine)',
    );
    this.deps.onIngested?.('quarantined', 'quarantined');
    this.deps.onEnqueued?.();
  }

  /** Queues the quarantine card for the triage channel, in the transaction that quarantines the message. */
  private async tellAdmins(tx: Db, attempt: MailAttempt): Promise<void> {
    const triage = await channelFor(tx, 'triage');
    if (!triage) {
      this.deps.logger.warn({ quarantineId: attempt.id }, 'no triage channel is set up to tell about a quarantined email');
      return;
    }
    const card = quarantineCard({ id: attempt.id, from: attempt.fromAddress, subject: attempt.subject, receivedAt: attempt.receivedAt, reason: attempt.reason ?? '', attempts: attempt.attempts });
    await enqueue(
      tx,
      [{ idempotencyKey: `mail-quarantine:${attempt.id}:${attempt.quarantinedAt ?? 0}`, operation: 'send', conversationRefId: triage.conversationRefId, activity: cardMessage(card, card.fallbackText) }],
      attempt.quarantinedAt ?? Date.now(),
    );
  }

  private async subscription(): Promise<StoredSubscription | undefined> {
    const raw = await readMailState(this.deps.database.db, this.subscriptionKey);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as StoredSubscription;
    } catch {
      return undefined;
    }
  }

  /** Creates the subscription, renews it when a quarter of its life is left, recreates it when Graph lost it. */
  private async keepSubscription(): Promise<void> {
    const { client, database, logger } = this.deps;
    const now = Date.now();
    const lifetime = this.options.subscriptionMinutes * 60_000;
    const current = this.resubscribe ? undefined : await this.subscription();
    if (current && !this.renewSoon && current.expiresAt - now > lifetime / 4) return;
    if (current) {
      try {
        const renewed = await client.renewSubscription(current.id, now + lifetime);
        await writeMailState(database.db, this.subscriptionKey, JSON.stringify({ ...current, expiresAt: renewed.expiresAt }), now);
        this.renewSoon = false;
        logger.info({ subscriptionId: current.id, expiresAt: new Date(renewed.expiresAt).toISOString() }, 'mail subscription renewed');
        return;
      } catch (error) {
        if (!isGraphError(error, 'not-found')) throw error;
        logger.warn({ subscriptionId: current.id }, 'the mail subscription is gone; creating a new one');
      }
    } else if (this.resubscribe) {
      const old = await this.subscription();
      if (old) await client.deleteSubscription(old.id).catch(() => undefined);
    }
    const clientState = randomBytes(24).toString('hex');
    // Stored before creating, so the validation request and first notifications already match it.
    const pending: StoredSubscription = { id: '', expiresAt: 0, clientState, createdAt: now };
    await writeMailState(database.db, this.subscriptionKey, JSON.stringify(pending), now);
    this.clientStateMemo = { value: clientState, until: 0 };
    const created = await client.createSubscription({ notificationUrl: this.options.notificationUrl!, expiresAt: now + lifetime, clientState });
    await writeMailState(database.db, this.subscriptionKey, JSON.stringify({ ...pending, id: created.id, expiresAt: created.expiresAt }), Date.now());
    this.resubscribe = false;
    this.renewSoon = false;
    logger.info({ subscriptionId: created.id, expiresAt: new Date(created.expiresAt).toISOString() }, 'mail subscription created');
  }

  private failed(error: unknown): void {
    this.failures++;
    const wait = isGraphError(error) && error.details.retryAfterMs !== undefined ? error.details.retryAfterMs : backoffDelay(this.failures, this.options.backoff);
    this.retryAt = Date.now() + wait;
    this.stats.lastError = error instanceof Error ? error.message : String(error);
    this.deps.logger.error({ err: error, retryInMs: wait, failures: this.failures }, 'reading the mailbox failed; the cursor stays where it was');
  }

  /**
   * The mailbox source intake uses: attachments listed without their contents (report parts aside, see
   * attachmentsWithReportParts), each file downloaded on its own, links for ones too large to keep.
   */
  static source(client: GraphMailClient): MailSource {
    const source: MailSource = {
      attachments: (mail) => client.attachments(mail.mailboxId),
      download: (mail, attachment, consume) => client.attachmentContent(mail.mailboxId, attachment.id, consume),
      attachmentUrl: (mail, id) => client.attachmentUrl(mail.mailboxId, id),
    };
    return { ...source, attachments: (mail) => attachmentsWithReportParts(source, mail) };
  }
}

export async function forgetSubscription(database: Database, mailbox: string): Promise<void> {
  await deleteMailState(database.db, `subscription:${mailbox.toLowerCase()}`);
}
