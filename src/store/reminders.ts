import type { Db, Dialect } from './database.js';

export interface Reminder {
  id: number;
  ticketId: number;
  personId: number;
  dueAt: number;
  state: 'pending' | 'sent' | 'completed';
  round: number;
  completedAt: number | null;
}

export async function insertReminder(db: Db, reminder: { ticketId: number; personId: number; dueAt: number }, now: number): Promise<Reminder> {
  const row = await db
    .insertInto('reminders')
    .values({ ticket_id: reminder.ticketId, person_id: reminder.personId, due_at: reminder.dueAt, state: 'pending', created_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toReminder(row);
}

export async function findReminder(db: Db, id: number, options: { lock?: Dialect } = {}): Promise<Reminder | undefined> {
  const row = await db
    .selectFrom('reminders')
    .selectAll()
    .where('id', '=', id)
    .$if(options.lock === 'postgres', (qb) => qb.forUpdate())
    .executeTakeFirst();
  return row && toReminder(row);
}

export async function dueReminders(db: Db, now: number, limit: number): Promise<number[]> {
  const rows = await db.selectFrom('reminders').select('id').where('state', '=', 'pending').where('due_at', '<=', now).orderBy('due_at').limit(limit).execute();
  return rows.map((r) => r.id);
}

export async function nextReminderAt(db: Db): Promise<number | undefined> {
  const row = await db.selectFrom('reminders').select((eb) => eb.fn.min('due_at').as('next')).where('state', '=', 'pending').executeTakeFirst();
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}

export async function saveReminder(db: Db, reminder: Reminder): Promise<void> {
  await db
    .updateTable('reminders')
    .set({ due_at: reminder.dueAt, state: reminder.state, round: reminder.round, completed_at: reminder.completedAt })
    .where('id', '=', reminder.id)
    .execute();
}

function toReminder(row: { id: number; ticket_id: number; person_id: number; due_at: number; state: Reminder['state']; round: number; completed_at: number | null }): Reminder {
  return { id: row.id, ticketId: row.ticket_id, personId: row.person_id, dueAt: row.due_at, state: row.state, round: row.round, completedAt: row.completed_at };
}
