import type { Db } from './database.js';
import type { MailIntakeAttemptTable } from './tables.js';

/**
 * Received email that intake is reading, or could not read: each message is written down as "in
 * progress" before intake reads it and removed once it is filed. A message whose attempts keep failing,
 * timing out, or never finishing because the process died under it is quarantined: skipped by the
 * mailbox cursor, shown to admins (`npm run mail -- quarantine`), and retried or dropped by them.
 * An admin's retry leaves the message one more attempt.
 */

/** A message is quarantined when this many attempts failed, timed out or never finished. */
export const QUARANTINE_AFTER_ATTEMPTS = 2;

export type AttemptState = MailIntakeAttemptTable['state'];

export interface MessageSummary {
  mailboxId: string;
  internetMessageId: string | null;
  subject: string;
  fromAddress: string | null;
  receivedAt: number | null;
}

export interface MailAttempt extends MessageSummary {
  id: number;
  mailbox: string;
  state: AttemptState;
  attempts: number;
  startedAt: number;
  owner: string | null;
  reason: string | null;
  quarantinedAt: number | null;
  updatedAt: number;
}

export type Begun =
  /** Go ahead: attempt number `attempt` is written down as in progress. `retry`: an admin asked for it. */
  | { go: true; id: number; attempt: number; retry: boolean }
  /** Skip it: quarantined now (`newly`) or before, or dropped by an admin, or already filed. */
  | { go: false; state: 'quarantined' | 'dropped' | 'done'; attempt: MailAttempt | undefined; newly: boolean };

type AttemptRow = MailIntakeAttemptTable & { id: number };


function toAttempt(row: AttemptRow): MailAttempt {
  return {
    id: Number(row.id),
    mailbox: row.mailbox,
    mailboxId: row.mailbox_id,
    internetMessageId: row.internet_message_id,
    subject: row.subject,
    fromAddress: row.from_address,
    receivedAt: row.received_at,
    state: row.state,
    attempts: row.attempts,
    startedAt: row.started_at,
    owner: row.owner,
    reason: row.reason,
    quarantinedAt: row.quarantined_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Writes down that `message` is about to be read, in one transaction, or says why not: it is
 * quarantined or dropped, or it was filed by an attempt that died before it could clear its record.
 * `onQuarantined` runs in the same transaction when this call quarantines it (to queue the admins' card).
 */
export async function beginAttempt(
  db: Db,
  mailbox: string,
  message: MessageSummary,
  context: { owner: string; now: number; onQuarantined?: (tx: Db, attempt: MailAttempt) => Promise<void> },
): Promise<Begun> {
  const box = mailbox.toLowerCase();
  const { now, owner } = context;
  return db.transaction().execute(async (tx) => {
    const t = tx;
    await t
      .insertInto('mail_intake_attempts')
      .values({
        mailbox: box,
        mailbox_id: message.mailboxId,
        internet_message_id: message.internetMessageId,
        subject: message.subject.slice(0, 500),
        from_address: message.fromAddress,
        received_at: message.receivedAt,
        state: 'in-progress',
        attempts: 0,
        started_at: now,
        owner,
        reason: null,
        quarantined_at: null,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['mailbox', 'mailbox_id']).doNothing())
      .execute();
    const row = (await t.selectFrom('mail_intake_attempts').selectAll().where('mailbox', '=', box).where('mailbox_id', '=', message.mailboxId).executeTakeFirstOrThrow()) as AttemptRow;
    const current = toAttempt(row);
    if (row.state === 'quarantined' || row.state === 'dropped') return { go: false, state: row.state, attempt: current, newly: false };
    if (row.attempts > 0 && message.internetMessageId && (await isFiled(tx, message.internetMessageId))) {
      // The attempt committed the email and the process died before it cleared this record.
      await t.deleteFrom('mail_intake_attempts').where('id', '=', row.id).execute();
      return { go: false, state: 'done', attempt: undefined, newly: false };
    }
    if (row.attempts >= QUARANTINE_AFTER_ATTEMPTS) {
      const reason =
        row.state === 'in-progress'
          ? `the service stopped while reading it: attempt ${row.attempts} never finished (a crash, a hang or a kill)${row.reason ? `; before that: ${row.reason}` : ''}`
          : (row.reason ?? 'failed');
      await t.updateTable('mail_intake_attempts').set({ state: 'quarantined', reason: reason.slice(0, 1000), quarantined_at: now, updated_at: now }).where('id', '=', row.id).execute();
      const quarantined: MailAttempt = { ...current, state: 'quarantined', reason, quarantinedAt: now, updatedAt: now };
      await context.onQuarantined?.(tx, quarantined);
      return { go: false, state: 'quarantined', attempt: quarantined, newly: true };
    }
    await t.updateTable('mail_intake_attempts').set({ state: 'in-progress', attempts: row.attempts + 1, started_at: now, owner, updated_at: now }).where('id', '=', row.id).execute();
    return { go: true, id: Number(row.id), attempt: row.attempts + 1, retry: row.state === 'retry' };
  });
}

/** The message was filed (or found a duplicate): nothing to keep. */
export async function finishAttempt(db: Db, id: number): Promise<void> {
  await db.deleteFrom('mail_intake_attempts').where('id', '=', id).execute();
}

/** The attempt failed or ran out of time for reasons of the message's own. */
export async function failAttempt(db: Db, id: number, reason: string, now: number): Promise<void> {
  await db.updateTable('mail_intake_attempts').set({ state: 'failed', reason: reason.slice(0, 1000), updated_at: now }).where('id', '=', id).execute();
}

/**
 * The attempt was stopped by something that is not the message's fault (Graph or the database
 * unavailable): it does not count, and an admin's retry stays asked for.
 */
export async function releaseAttempt(db: Db, id: number, backTo: 'failed' | 'retry', now: number): Promise<void> {
  const t = db;
  const row = await t.selectFrom('mail_intake_attempts').select(['attempts']).where('id', '=', id).executeTakeFirst();
  if (!row) return;
  if (row.attempts <= 1 && backTo === 'failed') {
    await t.deleteFrom('mail_intake_attempts').where('id', '=', id).execute();
    return;
  }
  await t.updateTable('mail_intake_attempts').set({ state: backTo, attempts: Math.max(0, row.attempts - 1), updated_at: now }).where('id', '=', id).execute();
}

/** Quarantines a message at once (e.g. it is no longer in the mailbox to retry). */
export async function quarantine(db: Db, id: number, reason: string, now: number): Promise<void> {
  await db.updateTable('mail_intake_attempts').set({ state: 'quarantined', reason: reason.slice(0, 1000), quarantined_at: now, updated_at: now }).where('id', '=', id).execute();
}

/** Which of these messages already have a record (in progress, failed, quarantined, …): one query for a page. */
export async function knownAttempts(db: Db, mailbox: string, mailboxIds: readonly string[]): Promise<Set<string>> {
  if (mailboxIds.length === 0) return new Set();
  const rows = await db.selectFrom('mail_intake_attempts').select('mailbox_id').where('mailbox', '=', mailbox.toLowerCase()).where('mailbox_id', 'in', mailboxIds).execute();
  return new Set(rows.map((r) => r.mailbox_id));
}

/** What admins see: quarantined messages and retries not yet done, newest first. */
export async function listQuarantined(db: Db, limit = 100): Promise<MailAttempt[]> {
  const rows = await db.selectFrom('mail_intake_attempts').selectAll().where('state', 'in', ['quarantined', 'retry']).orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => toAttempt(r as AttemptRow));
}

export async function findAttempt(db: Db, id: number): Promise<MailAttempt | undefined> {
  const row = await db.selectFrom('mail_intake_attempts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toAttempt(row as AttemptRow) : undefined;
}

/** Retries an admin asked for, for one mailbox, oldest first. */
export async function retriesRequested(db: Db, mailbox: string, limit = 50): Promise<MailAttempt[]> {
  const rows = await db.selectFrom('mail_intake_attempts').selectAll().where('state', '=', 'retry').where('mailbox', '=', mailbox.toLowerCase()).orderBy('updated_at').orderBy('id').limit(limit).execute();
  return rows.map((r) => toAttempt(r as AttemptRow));
}

export type AdminChange = { ok: true; attempt: MailAttempt } | { ok: false; problem: string };

/** An admin asks for one more attempt at a quarantined (or dropped) message. */
export async function requestRetry(db: Db, id: number, now: number): Promise<AdminChange> {
  const found = await findAttempt(db, id);
  if (!found) return { ok: false, problem: `no quarantined email has id ${id}` };
  if (found.state === 'retry') return { ok: false, problem: `email ${id} is already waiting to be read again` };
  if (found.state !== 'quarantined' && found.state !== 'dropped') return { ok: false, problem: `email ${id} is not quarantined (it is ${found.state})` };
  await db
    .updateTable('mail_intake_attempts')
    .set({ state: 'retry', attempts: QUARANTINE_AFTER_ATTEMPTS - 1, updated_at: now })
    .where('id', '=', id)
    .where('state', '=', found.state)
    .execute();
  return { ok: true, attempt: { ...found, state: 'retry', attempts: QUARANTINE_AFTER_ATTEMPTS - 1, updatedAt: now } };
}

/** An admin gives up on a quarantined message: it is never read again. */
export async function dropQuarantined(db: Db, id: number, now: number): Promise<AdminChange> {
  const found = await findAttempt(db, id);
  if (!found) return { ok: false, problem: `no quarantined email has id ${id}` };
  if (found.state === 'dropped') return { ok: false, problem: `email ${id} was already dropped` };
  if (found.state !== 'quarantined' && found.state !== 'retry') return { ok: false, problem: `email ${id} is not quarantined (it is ${found.state})` };
  await db.updateTable('mail_intake_attempts').set({ state: 'dropped', reason: `dropped by an admin; ${found.reason ?? ''}`.slice(0, 1000), updated_at: now }).where('id', '=', id).execute();
  return { ok: true, attempt: { ...found, state: 'dropped', updatedAt: now } };
}

async function isFiled(db: Db, internetMessageId: string): Promise<boolean> {
  const row = await db.selectFrom('mail_messages').select('id').where('internet_message_id', '=', internetMessageId).executeTakeFirst();
  return row !== undefined;
}
