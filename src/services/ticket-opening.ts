import { deskEventId } from '../domain/desk-events.js';
import { priorityAllowed, refusal } from '../domain/roles.js';
import type { SlaPolicy } from '../domain/sla.js';
import { slaColumns, startClocks } from '../domain/ticket-sla.js';
import type { TicketType } from '../domain/ticket-reference.js';
import { DESCRIPTION_MAX, PRIORITIES, SUBJECT_MAX, type CrmStatus, type Priority, type Ticket, type TicketSource } from '../domain/tickets.js';
import type { Logger } from '../logger.js';
import { inTransaction, type Database, type Db } from '../store/database.js';
import { enqueue, type OutboxMessage } from '../store/outbox.js';
import { insertTicket } from '../store/tickets.js';
import { addAudit, addTimelineEntry } from '../store/timeline.js';
import type { Result } from './result.js';
import type { EventSink } from './desk-events.js';
import type { ChangeContext } from './ticket-change.js';

/**
 * Opening a ticket: the subject and description checked, the SLA clocks started for its priority and
 * (cached CRM) tier, and the ticket, its "created" timeline entry, an audit row and its first cards
 * written in one transaction.
 */

export interface NewTicketInput {
  type: TicketType;
  subject: string;
  description: string;
  priority: Priority;
  teamId: string | null;
  source: TicketSource;
  /** Conversations (stored reference ids) that should get the new ticket's card. */
  postTo: readonly number[];
  /** The channel mapped as critical: it gets the card too when the ticket is created P1. */
  criticalChannel?: number;
  /** Who the ticket is for, when not the person creating it (an agent forwarding a customer's email). */
  requesterId?: number;
  /** What the timeline's "created" entry records besides priority and source (e.g. the email's Message-ID). */
  origin?: Record<string, unknown>;
}

/** The CRM facts a new ticket starts with, from the cache (never a call to the CRM): its tier, and whether a lookup is queued. */
export interface CrmAtCreation {
  atCreation(tx: Db, requesterId: number, now: number): Promise<{ tier: string | undefined; crmStatus: CrmStatus }>;
}

export interface TicketOpeningDeps {
  database: Database;
  sla: SlaPolicy;
  clock?: () => number;
  onEnqueued?: () => void;
  crm?: CrmAtCreation;
  logger?: Logger;
  /** The most urgent priority a requester may give a new ticket; P2 by default. */
  requesterMaxPriority?: Priority;
  /** Where the ticket.created event goes (notification rules). */
  events?: EventSink;
}

/** Opens a ticket; inside `within` (the caller's transaction, e.g. email intake) when given. */
export async function openTicket(deps: TicketOpeningDeps, ctx: ChangeContext, input: NewTicketInput, within?: Db): Promise<Result<Ticket>> {
  const refused = refusal(ctx.actor.role, 'create');
  if (refused) return { ok: false, reason: refused };
  const subject = input.subject.trim();
  if (!subject) return { ok: false, reason: 'a ticket needs a subject' };
  if (subject.length > SUBJECT_MAX) return { ok: false, reason: `the subject is longer than ${SUBJECT_MAX} characters` };
  if (input.description.length > DESCRIPTION_MAX) return { ok: false, reason: `the description is longer than ${DESCRIPTION_MAX} characters` };

  const now = (deps.clock ?? Date.now)();
  const requesterId = input.requesterId ?? ctx.actor.person.id;
  // Requesters ask for at most P2 (unless an admin allows more); agents triage from there.
  const priority = priorityAllowed(ctx.actor.role, input.priority, deps.requesterMaxPriority ?? 'P2', PRIORITIES);
  const ticket = await inTransaction(within ?? deps.database.db, async (tx) => {
    // A known requester's tier comes from the CRM cache, so the SLA starts right; an unknown one is looked up in the background.
    const crm = (await deps.crm?.atCreation(tx, requesterId, now)) ?? { tier: undefined, crmStatus: 'none' as const };
    const tier = crm.tier ?? deps.sla.defaultTier;
    const slaSubject = { priority, tier, teamId: input.teamId };
    const sla = slaColumns(deps.sla, slaSubject, startClocks(deps.sla, slaSubject, now), now);
    const created = await insertTicket(
      tx,
      { type: input.type, subject, description: input.description.trim(), priority, requesterId, teamId: input.teamId, source: input.source, tier, sla, tierSource: crm.tier ? 'crm' : 'default', crmStatus: crm.crmStatus },
      now,
    );
    await addTimelineEntry(tx, {
      ticketId: created.id,
      at: now,
      kind: 'created',
      visibility: 'public',
      authorId: ctx.actor.person.id,
      body: subject,
      data: { priority, ...(priority !== input.priority ? { asked: input.priority } : {}), source: input.source, ...(requesterId !== ctx.actor.person.id ? { requesterId } : {}), ...input.origin },
    });
    await addAudit(tx, { at: now, actorId: ctx.actor.person.id, action: 'ticket.create', ticketId: created.id, surface: ctx.surface, details: { priority, type: input.type } });
    const targets = [...input.postTo, ...(priority === 'P1' && input.criticalChannel !== undefined ? [input.criticalChannel] : [])];
    const posts: OutboxMessage[] = [...new Set(targets)].map((conversationRefId) => ({
      idempotencyKey: `ticket:${created.id}:created:conv:${conversationRefId}`,
      operation: 'send',
      conversationRefId,
      ticketId: created.id,
      cardKind: 'ticket',
      activity: null,
    }));
    await enqueue(tx, posts, now);
    // Keyed like the posts above: a rule sending new tickets to a channel they already go to posts once.
    await deps.events?.record(tx, { id: deskEventId(`t${created.id}`, `v${created.version}`, 'ticket.created'), type: 'ticket.created', ticket: created, actorId: ctx.actor.person.id, data: { source: input.source }, teamsCard: { cardKind: 'ticket', key: `ticket:${created.id}:created` } }, now);
    return created;
  });
  // Inside someone else's transaction nothing is committed yet: waking the worker is theirs to do.
  if (!within) {
    deps.onEnqueued?.();
    deps.logger?.info({ ticket: ticket.reference, source: input.source, priority, surface: ctx.surface }, 'ticket created');
  }
  const lowered = priority !== input.priority ? ` as ${priority}: agents set ${input.priority} when they triage it` : '';
  return { ok: true, value: ticket, notice: `Created ${ticket.reference}${lowered}` };
}
