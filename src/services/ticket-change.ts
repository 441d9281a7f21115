import { deskEventId } from '../domain/desk-events.js';
import { ticketRefusal, type TicketAction } from '../domain/roles.js';
import type { SlaPolicy } from '../domain/sla.js';
import type { Ticket } from '../domain/tickets.js';
import type { Logger } from '../logger.js';
import { inTransaction, type Database, type Db } from '../store/database.js';
import { findTicket, updateTicket, type TicketChanges } from '../store/tickets.js';
import { addAudit, addTimelineEntry, type Surface, type Visibility } from '../store/timeline.js';
import { callerOf, type Actor } from './actors.js';
import type { Result } from './result.js';
import { eventOfChange, type EventSink } from './desk-events.js';
import { queueChangeNotifications, type ChangeNotice } from './ticket-change-notifications.js';
import { slaAfterChange } from './ticket-sla-after-change.js';

/**
 * How every change to an existing ticket is committed, whatever its use case: in one transaction the
 * ticket row is locked, the caller's right to make the change checked, the change applied (with its
 * SLA clocks recomputed) under optimistic versioning, its timeline entry and audit row written, and the
 * card updates and notifications it causes queued. Nothing is sent from here.
 */

export interface ChangeContext {
  actor: Actor;
  surface: Surface;
}

/** Changes the desk makes by itself (CRM enrichment and mirroring): no person is the author. */
export const SYSTEM_ACTOR: Actor = {
  person: { id: 0, teamsId: null, aadObjectId: null, tenantId: null, name: 'Service Desk', email: null, role: 'admin', timeZone: null, quiet: null },
  role: 'admin',
};

/** What an applied change adds to the ticket's record, and who hears about it. */
export interface Applied {
  ok: true;
  changes: TicketChanges;
  timeline: { kind: string; visibility: Visibility; body: string; data?: unknown };
  notice: string;
  /** A card or message to the personal chat of each person named, unless they made the change. */
  notify?: ChangeNotice[];
  /** More work in the same transaction once the ticket is updated; true when it queued something. */
  after?: (tx: Db, updated: Ticket, now: number) => Promise<boolean>;
}
export type Refused = { ok: false; reason: string };

export interface TicketChangeDeps {
  database: Database;
  sla: SlaPolicy;
  clock?: () => number;
  /** Called after a commit that queued outbox rows, so the worker looks at once. */
  onEnqueued?: () => void;
  /** One line per committed change: the ticket, what happened, from where (never its text). */
  logger?: Logger;
  /** Where the change's desk event goes (notification rules: webhooks, PagerDuty, Slack, channels). */
  events?: EventSink;
}

/**
 * Commits one change to ticket `id`; inside `within` (another service's transaction) when given, in
 * which case waking the worker and logging are left to the caller's commit. `trusted`: the change's
 * right is decided by its source (an email thread), not by the actor's role.
 */
export async function commitTicketChange(
  deps: TicketChangeDeps,
  ctx: ChangeContext,
  id: number,
  action: TicketAction,
  apply: (tx: Db, ticket: Ticket) => Promise<Applied | Refused>,
  within?: Db,
  options: { trusted?: boolean } = {},
): Promise<Result<Ticket>> {
  const { actor } = ctx;
  const outcome = await inTransaction(within ?? deps.database.db, async (tx): Promise<Result<Ticket> & { queued?: boolean; event?: string }> => {
    // On Postgres the row stays locked until commit, so a concurrent change waits and then sees ours.
    const ticket = await findTicket(tx, id, { lock: deps.database.dialect });
    // Refused before anything of the ticket is looked at: a refusal carries none of it.
    const refused = options.trusted ? undefined : ticketRefusal(callerOf(actor), action, id, ticket);
    if (refused) return { ok: false, reason: refused, denied: true };
    if (!ticket) return { ok: false, reason: noSuchTicket(id) };
    const applied = await apply(tx, ticket);
    if (!applied.ok) return { ok: false, reason: applied.reason, ticket };

    const now = (deps.clock ?? Date.now)();
    const sla = slaAfterChange(deps.sla, ticket, applied.changes, now);
    const updated = await updateTicket(tx, ticket, { ...applied.changes, ...(sla ? { sla } : {}) }, now);
    if (!updated) return { ok: false, reason: `${ticket.reference} was changed by someone else at the same moment; try again`, ticket };
    const authorId = actor === SYSTEM_ACTOR ? null : actor.person.id;
    await addTimelineEntry(tx, { ticketId: id, at: now, authorId, ...applied.timeline });
    await addAudit(tx, { at: now, actorId: authorId, action: `ticket.${applied.timeline.kind}`, ticketId: id, surface: ctx.surface, details: applied.timeline.data ?? null });

    const queuedAfter = (await applied.after?.(tx, updated, now)) ?? false;
    const notified = await queueChangeNotifications(tx, { ticketId: id, version: updated.version, madeBy: actor.person.id, notify: applied.notify ?? [] }, now);
    const event = eventOfChange(applied.timeline);
    let announced = (await deps.events?.record(tx, { id: deskEventId(`t${id}`, `v${updated.version}`, event.type), type: event.type, ticket: updated, actorId: authorId, data: event.data }, now)) ?? false;
    // A change that moves the status on the way (a take opens a new ticket, a customer's email reopens
    // a resolved one) is a status change too, for rules and targets that follow status.
    if (event.type !== 'ticket.status_changed' && updated.status !== ticket.status) {
      const moved = { id: deskEventId(`t${id}`, `v${updated.version}`, 'ticket.status_changed'), type: 'ticket.status_changed' as const, ticket: updated, actorId: authorId, data: { from: ticket.status, to: updated.status } };
      announced = (await deps.events?.record(tx, moved, now)) || announced;
    }
    return { ok: true, value: updated, notice: applied.notice, queued: queuedAfter || notified || announced, event: applied.timeline.kind };
  });
  if (outcome.ok && outcome.queued && !within) deps.onEnqueued?.();
  if (outcome.ok && !within) deps.logger?.info({ ticket: outcome.value.reference, event: outcome.event, surface: ctx.surface }, 'ticket changed');
  const { queued: _queued, event: _event, ...result } = outcome;
  return result;
}

export function noSuchTicket(id: number): string {
  return `there is no ticket #${id}`;
}
