import { deskEventId } from '../domain/desk-events.js';
import { ticketRefusal } from '../domain/roles.js';
import { calendarFor, type SlaPolicy } from '../domain/sla.js';
import { parseWhen } from '../domain/when.js';
import { correlationId, withCorrelation } from '../log-context.js';
import { cardPostsOfTicket } from '../store/card-posts.js';
import { findPersonalConversation } from '../store/conversation-references.js';
import type { Database, Db } from '../store/database.js';
import { enqueue, enqueueCardUpdate } from '../store/outbox.js';
import { findPerson } from '../store/people.js';
import { dueReminders, findReminder, insertReminder, saveReminder, type Reminder } from '../store/reminders.js';
import { findTicket } from '../store/tickets.js';
import { addAudit, addTimelineEntry } from '../store/timeline.js';
import { callerOf, type Actor } from './actors.js';
import type { EventSink } from './desk-events.js';
import type { Result } from './result.js';

export const reminderCardKind = (id: number) => `reminder:${id}`;

/** Shows an instant as a person reads it: "Fri 27 Nov, 09:00 (Europe/Berlin)". */
export function describeInstant(instant: number, timeZone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(instant);
  return `${text} (${timeZone})`;
}

/**
 * Reminders on tickets: set by typing (`remind me INC-42 tomorrow 9:00`) or from the ticket card, sent
 * once to the person's chat when due, then completed or snoozed from the reminder card. They live in
 * the database, so a restart neither loses nor repeats them.
 */
export class ReminderService {
  constructor(
    private readonly deps: {
      database: Database;
      policy: SlaPolicy;
      clock?: () => number;
      onEnqueued?: () => void;
      /** A reminder was set or moved: the sweeper may need to wake sooner than it planned. */
      onScheduled?: () => void;
      /** Where reminder.due events go (notification rules). */
      events?: EventSink;
    },
  ) {}

  private get db(): Db {
    return this.deps.database.db;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  async create(actor: Actor, ticketId: number, when: string): Promise<Result<Reminder>> {
    const now = this.now();
    const ticket = await findTicket(this.db, ticketId);
    const refused = ticketRefusal(callerOf(actor), 'view', ticketId, ticket);
    if (refused || !ticket) return { ok: false, reason: refused ?? `there is no ticket #${ticketId}`, denied: true };
    const calendar = calendarFor(this.deps.policy, ticket);
    const timeZone = actor.person.timeZone ?? calendar.timeZone;
    const parsed = parseWhen(when, now, timeZone, calendar);
    if (!parsed.ok) return { ok: false, reason: parsed.error };
    if (parsed.at <= now) return { ok: false, reason: 'that time has already passed' };
    const reminder = await this.db.transaction().execute(async (tx) => {
      const created = await insertReminder(tx, { ticketId, personId: actor.person.id, dueAt: parsed.at }, now);
      await addTimelineEntry(tx, { ticketId, at: now, kind: 'reminder', visibility: 'internal', authorId: actor.person.id, body: `Reminder set for ${describeInstant(parsed.at, timeZone)}`, data: { reminderId: created.id } });
      await addAudit(tx, { at: now, actorId: actor.person.id, action: 'reminder.create', ticketId, surface: 'chat', details: { reminderId: created.id, dueAt: parsed.at } });
      return created;
    });
    this.deps.onScheduled?.();
    return { ok: true, value: reminder, notice: `I'll remind you about ${ticket.reference} on ${describeInstant(parsed.at, timeZone)}` };
  }

  /** Sends every reminder that has come due, each once; returns how many went out. */
  async fireDue(limit = 200): Promise<number> {
    const now = this.now();
    let fired = 0;
    for (const id of await dueReminders(this.db, now, limit)) {
      const sent = await withCorrelation(correlationId('reminder', id), () => this.db.transaction().execute(async (tx) => {
        const reminder = await findReminder(tx, id, { lock: this.deps.database.dialect });
        // Another sweeper may have sent it, or its owner completed or snoozed it meanwhile.
        if (!reminder || reminder.state !== 'pending' || reminder.dueAt > now) return false;
        const next: Reminder = { ...reminder, state: 'sent', round: reminder.round + 1 };
        await saveReminder(tx, next);
        const person = await findPerson(tx, reminder.personId);
        const chat = person && (await findPersonalConversation(tx, { aadObjectId: person.aadObjectId, teamsId: person.teamsId }));
        if (chat) {
          await enqueue(
            tx,
            [{ idempotencyKey: `reminder:${id}:round:${next.round}`, operation: 'send', conversationRefId: chat.id, ticketId: reminder.ticketId, cardKind: reminderCardKind(id), activity: null }],
            now,
          );
        }
        await addTimelineEntry(tx, { ticketId: reminder.ticketId, at: now, kind: 'reminder', visibility: 'internal', authorId: null, body: chat ? `Reminder sent to ${person!.name}` : `Reminder for ${person?.name ?? 'someone'} could not be delivered: no chat with the bot`, data: { reminderId: id } });
        const ticket = this.deps.events && (await findTicket(tx, reminder.ticketId));
        const announced = ticket
          ? await this.deps.events!.record(tx, { id: deskEventId(`t${ticket.id}`, `rem${id}`, `r${next.round}`, 'reminder.due'), type: 'reminder.due', ticket, actorId: null, data: { reminderId: id, for: person ? { name: person.name, email: person.email } : null } }, now)
          : false;
        return Boolean(chat) || announced;
      }));
      if (sent) fired += 1;
    }
    if (fired > 0) this.deps.onEnqueued?.();
    return fired;
  }

  async complete(actor: Actor, id: number): Promise<Result<Reminder>> {
    return this.change(actor, id, (reminder, now) => ({
      next: { ...reminder, state: 'completed', completedAt: now },
      body: `Reminder completed by ${actor.person.name}`,
      notice: 'Done: reminder completed',
    }));
  }

  /** Brings a reminder back after `minutes`, or tomorrow at 9:00 in the person's time zone. */
  async snooze(actor: Actor, id: number, until: { minutes: number } | 'tomorrow'): Promise<Result<Reminder>> {
    return this.change(actor, id, (reminder, now, timeZone) => {
      const parsed = until === 'tomorrow' ? parseWhen('tomorrow 9:00', now, timeZone) : { ok: true as const, at: now + until.minutes * 60_000 };
      const dueAt = parsed.ok ? parsed.at : now + 3_600_000;
      return { next: { ...reminder, state: 'pending', dueAt }, body: `Reminder snoozed until ${describeInstant(dueAt, timeZone)}`, notice: `Snoozed until ${describeInstant(dueAt, timeZone)}` };
    });
  }

  private async change(
    actor: Actor,
    id: number,
    decide: (reminder: Reminder, now: number, timeZone: string) => { next: Reminder; body: string; notice: string },
  ): Promise<Result<Reminder>> {
    const now = this.now();
    const result = await this.db.transaction().execute(async (tx): Promise<Result<Reminder>> => {
      const reminder = await findReminder(tx, id, { lock: this.deps.database.dialect });
      // Someone else's reminder reads like none at all: its number tells nothing.
      if (!reminder || reminder.personId !== actor.person.id) return { ok: false, reason: 'you have no such reminder', denied: true };
      if (reminder.state === 'completed') return { ok: false, reason: 'that reminder is completed already' };
      const ticket = await findTicket(tx, reminder.ticketId);
      const timeZone = actor.person.timeZone ?? (ticket ? calendarFor(this.deps.policy, ticket).timeZone : 'UTC');
      const { next, body, notice } = decide(reminder, now, timeZone);
      await saveReminder(tx, next);
      await addTimelineEntry(tx, { ticketId: reminder.ticketId, at: now, kind: 'reminder', visibility: 'internal', authorId: actor.person.id, body, data: { reminderId: id } });
      await addAudit(tx, { at: now, actorId: actor.person.id, action: `reminder.${next.state === 'completed' ? 'complete' : 'snooze'}`, ticketId: reminder.ticketId, surface: 'card', details: { reminderId: id, dueAt: next.dueAt } });
      for (const post of await cardPostsOfTicket(tx, reminder.ticketId)) {
        if (post.kind !== reminderCardKind(id)) continue;
        await enqueueCardUpdate(tx, { postId: post.id, conversationRefId: post.conversationRefId, activityId: post.activityId, ticketId: reminder.ticketId, cardKind: post.kind, version: now }, now);
      }
      return { ok: true, value: next, notice };
    });
    if (result.ok) {
      this.deps.onEnqueued?.();
      this.deps.onScheduled?.();
    }
    return result;
  }
}
