import { sql } from 'kysely';
import { currentCorrelationId } from '../log-context.js';
import type { Db, Dialect } from './database.js';
import { leaseIsFree } from './replicas.js';
import type { MailMessageTable, MailOutboxTable } from './tables.js';

/**
 * Email as stored: every message seen (received or sent) under its unique Message-ID, the mailbox
 * cursor, and mail waiting to be sent (attachments are in mail-attachments.ts).
 */

export interface StoredMail {
  internetMessageId: string;
  direction: 'in' | 'out';
  mailboxId: string | null;
  ticketId: number | null;
  conversationId: string | null;
  fromAddress: string | null;
  subject: string;
  receivedAt: number;
  disposition: MailMessageTable['disposition'];
  reason: string | null;
  headers: ReadonlyArray<{ name: string; value: string }> | null;
  body: { type: 'html' | 'text'; content: string } | null;
  /** Why the sender is not trusted to be who the From line says (a spoofed agent or colleague). */
  senderCheck?: string | null;
}

/** Records a message; returns its row id, or undefined when this Message-ID was already recorded. */
export async function recordMail(db: Db, mail: StoredMail, now: number): Promise<number | undefined> {
  const row = await db
    .insertInto('mail_messages')
    .values({
      internet_message_id: mail.internetMessageId,
      direction: mail.direction,
      mailbox_id: mail.mailboxId,
      ticket_id: mail.ticketId,
      conversation_id: mail.conversationId,
      from_address: mail.fromAddress,
      subject: mail.subject,
      received_at: mail.receivedAt,
      disposition: mail.disposition,
      reason: mail.reason,
      headers: mail.headers ? JSON.stringify(mail.headers) : null,
      body_type: mail.body?.type ?? null,
      body: mail.body?.content ?? null,
      sender_check: mail.senderCheck ?? null,
      created_at: now,
    })
    .onConflict((oc) => oc.column('internet_message_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/** Files a received message under the ticket it opened or replied to, with the reason (the threading rule, or why it is new). */
export async function fileMailUnderTicket(db: Db, mailId: number, ticketId: number, filed: { disposition: 'ticket' | 'reply'; reason: string }): Promise<void> {
  await db.updateTable('mail_messages').set({ ticket_id: ticketId, disposition: filed.disposition, reason: filed.reason }).where('id', '=', mailId).execute();
}

export async function isMailRecorded(db: Db, internetMessageId: string): Promise<boolean> {
  const row = await db.selectFrom('mail_messages').select('id').where('internet_message_id', '=', internetMessageId).executeTakeFirst();
  return row !== undefined;
}

/** The ticket of the newest stored message, received or sent, with one of these Message-IDs. */
export async function ticketOfMessageIds(db: Db, ids: readonly string[]): Promise<number | undefined> {
  if (ids.length === 0) return undefined;
  const row = await db
    .selectFrom('mail_messages')
    .select('ticket_id')
    .where('internet_message_id', 'in', ids.slice(0, 200))
    .where('ticket_id', 'is not', null)
    .orderBy('received_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.ticket_id ?? undefined;
}

export async function ticketOfConversation(db: Db, conversationId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('mail_messages')
    .select('ticket_id')
    .where('conversation_id', '=', conversationId)
    .where('ticket_id', 'is not', null)
    .orderBy('received_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.ticket_id ?? undefined;
}

/** The ticket of mail we sent under one of these Message-IDs (a bounce returns one of them). */
export async function ticketOfSentMessageIds(db: Db, ids: readonly string[]): Promise<number | undefined> {
  if (ids.length === 0) return undefined;
  const row = await db.selectFrom('mail_outbox').select('ticket_id').where('internet_message_id', 'in', ids.slice(0, 200)).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.ticket_id ?? undefined;
}

/** Whether one of these Message-IDs is mail we sent on this ticket (only its recipients can know it). */
export async function sentOnTicket(db: Db, ticketId: number, ids: readonly string[]): Promise<boolean> {
  if (ids.length === 0) return false;
  const row = await db.selectFrom('mail_outbox').select('id').where('ticket_id', '=', ticketId).where('internet_message_id', 'in', ids.slice(0, 200)).executeTakeFirst();
  return row !== undefined;
}

/** The newest sender on this ticket whose claim to be an agent or a colleague could not be confirmed. */
export async function unverifiedSender(db: Db, ticketId: number): Promise<{ address: string; check: string } | undefined> {
  const row = await db
    .selectFrom('mail_messages')
    .select(['from_address', 'sender_check'])
    .where('ticket_id', '=', ticketId)
    .where('direction', '=', 'in')
    .where('sender_check', 'is not', null)
    .orderBy('received_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { address: row.from_address ?? 'unknown', check: row.sender_check! } : undefined;
}


export async function hasThreadToken(db: Db, ticketId: number, token: string): Promise<boolean> {
  const row = await db.selectFrom('mail_outbox').select('id').where('ticket_id', '=', ticketId).where('token', '=', token).executeTakeFirst();
  return row !== undefined;
}

/** Is this one of the messages we sent? (Our mail coming back, e.g. when the mailbox is copied.) */
export async function isOwnMessage(db: Db, internetMessageId: string): Promise<boolean> {
  const row = await db.selectFrom('mail_outbox').select('id').where('internet_message_id', '=', internetMessageId).executeTakeFirst();
  return row !== undefined;
}

/** The customer message an agent's reply answers: the newest one received on the ticket. */
export async function latestReceivedMail(db: Db, ticketId: number): Promise<{ id: number; mailboxId: string | null; internetMessageId: string; fromAddress: string | null; subject: string; references: string | null } | undefined> {
  const row = await db
    .selectFrom('mail_messages')
    .select(['id', 'mailbox_id', 'internet_message_id', 'from_address', 'subject', 'headers'])
    .where('ticket_id', '=', ticketId)
    .where('direction', '=', 'in')
    .where('disposition', 'in', ['ticket', 'reply'])
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  const headers: Array<{ name: string; value: string }> = row.headers ? JSON.parse(row.headers) : [];
  const references = headers.find((h) => h.name.toLowerCase() === 'references')?.value ?? null;
  return { id: row.id, mailboxId: row.mailbox_id, internetMessageId: row.internet_message_id, fromAddress: row.from_address, subject: row.subject, references };
}

export async function findMailRow(db: Db, id: number): Promise<{ mailboxId: string | null; internetMessageId: string; references: string | null } | undefined> {
  const row = await db.selectFrom('mail_messages').select(['mailbox_id', 'internet_message_id', 'headers']).where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const headers: Array<{ name: string; value: string }> = row.headers ? JSON.parse(row.headers) : [];
  return { mailboxId: row.mailbox_id, internetMessageId: row.internet_message_id, references: headers.find((h) => h.name.toLowerCase() === 'references')?.value ?? null };
}

// ---- the mailbox cursor and other small state, with a lease so one replica reads the mailbox at a time

export async function readMailState(db: Db, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('mail_state').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

export async function writeMailState(db: Db, key: string, value: string, now: number): Promise<void> {
  await db
    .insertInto('mail_state')
    .values({ key, value, updated_at: now, lease_until: null, lease_owner: null })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
    .execute();
}

export async function deleteMailState(db: Db, key: string): Promise<void> {
  await db.deleteFrom('mail_state').where('key', '=', key).execute();
}

/**
 * Takes (or extends) the lease on `key` for `owner` (a replica id); false while another live replica
 * holds it. A holder that stopped beating loses it at once (see `leaseIsFree`).
 */
export async function leaseMailState(db: Db, key: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
  await db
    .insertInto('mail_state')
    .values({ key, value: '', updated_at: now, lease_until: null, lease_owner: null })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const result = await db
    .updateTable('mail_state')
    .set({ lease_until: now + leaseMs, lease_owner: owner })
    .where('key', '=', key)
    .where((eb) => eb.or([eb('lease_owner', '=', owner), leaseIsFree({ until: 'lease_until', owner: 'lease_owner' }, now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function releaseMailLease(db: Db, key: string, owner: string): Promise<void> {
  await db.updateTable('mail_state').set({ lease_until: null, lease_owner: null }).where('key', '=', key).where('lease_owner', '=', owner).execute();
}

// ---- outgoing mail

export type OutgoingMail = Omit<MailOutboxTable, 'id' | 'attempts' | 'status' | 'lease_until' | 'lease_owner' | 'last_error' | 'draft_id' | 'internet_message_id' | 'sent_at' | 'created_at' | 'next_attempt_at' | 'correlation_id' | 'send_started_at'>;
export type QueuedMail = MailOutboxTable & { id: number; attempts: number; correlation_id: string | null; send_started_at: number | null };

/** Queues mail in the caller's transaction; a key already queued is left as it is. */
export async function enqueueMail(db: Db, mail: OutgoingMail, now: number): Promise<boolean> {
  const row = await db
    .insertInto('mail_outbox')
    .values({ ...mail, status: 'pending', next_attempt_at: now, lease_until: null, lease_owner: null, last_error: null, draft_id: null, internet_message_id: null, created_at: now, sent_at: null, correlation_id: currentCorrelationId() ?? null })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Acknowledgements queued since `since`: to one address (robots answering robots), or to anyone (the desk's cap against backscatter). */
export async function acknowledgementsSince(db: Db, since: number, address?: string): Promise<number> {
  const row = await db
    .selectFrom('mail_outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .$if(address !== undefined, (qb) => qb.where('to_address', '=', address!))
    .where('kind', '=', 'acknowledgement')
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Leases due mail to `owner` (a replica id); mail leased by a replica that stopped beating is taken over. */
export async function claimDueMail(db: Db, dialect: Dialect, options: { now: number; limit: number; leaseMs: number; owner: string }): Promise<QueuedMail[]> {
  const { now, limit, leaseMs, owner } = options;
  const due = db
    .selectFrom('mail_outbox')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where(leaseIsFree({ until: 'lease_until', owner: 'lease_owner' }, now))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked());
  const rows = await db.updateTable('mail_outbox').set({ lease_until: now + leaseMs, lease_owner: owner }).where('id', 'in', due).returningAll().execute();
  return rows.sort((a, b) => a.id - b.id) as QueuedMail[];
}

export async function rememberDraft(db: Db, id: number, draftId: string): Promise<void> {
  await db.updateTable('mail_outbox').set({ draft_id: draftId }).where('id', '=', id).execute();
}

/**
 * Writes down, before the request goes, that a send of this mail is beginning and the Message-ID it
 * goes out under: if the process dies or the answer is lost after Graph took it, the next attempt
 * knows to look for that Message-ID in Sent Items first.
 */
export async function markMailSendStarted(db: Db, id: number, now: number, internetMessageId: string): Promise<void> {
  await db.updateTable('mail_outbox').set({ send_started_at: now, internet_message_id: internetMessageId }).where('id', '=', id).execute();
}

/** Whether a send of this mail began before (see markMailSendStarted). */
export const mailSendWasStarted = (mail: Pick<QueuedMail, 'send_started_at'>): boolean => mail.send_started_at !== null && mail.send_started_at !== undefined;

export async function markMailSent(db: Db, id: number, internetMessageId: string, now: number): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({ status: 'sent', sent_at: now, internet_message_id: internetMessageId, lease_until: null, lease_owner: null, last_error: null, attempts: sql`attempts + 1` })
    .where('id', '=', id)
    .execute();
}

export async function scheduleMailRetry(db: Db, id: number, at: number, error: string, countAttempt = true): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({ next_attempt_at: at, last_error: error.slice(0, 1000), lease_until: null, lease_owner: null, ...(countAttempt ? { attempts: sql`attempts + 1` } : {}) })
    .where('id', '=', id)
    .execute();
}

export async function markMailDead(db: Db, id: number, error: string): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({ status: 'dead', last_error: error.slice(0, 1000), lease_until: null, lease_owner: null, attempts: sql`attempts + 1` })
    .where('id', '=', id)
    .execute();
}

export async function nextMailDueAt(db: Db): Promise<number | undefined> {
  // Mail someone is sending is due again when its lease runs out, not before (or an idle sender would spin).
  const row = await db
    .selectFrom('mail_outbox')
    .select(sql<number>`min(case when lease_until > next_attempt_at then lease_until else next_attempt_at end)`.as('at'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return row?.at == null ? undefined : Number(row.at);
}

export async function mailOutboxDepth(db: Db): Promise<{ pending: number; dead: number }> {
  const rows = await db.selectFrom('mail_outbox').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('status', 'in', ['pending', 'dead']).groupBy('status').execute();
  const count = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  return { pending: count('pending'), dead: count('dead') };
}
