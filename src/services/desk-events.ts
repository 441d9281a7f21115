import { DESK_EVENT_VERSION, type DeskEvent, type DeskEventType, type EventPerson, type TicketSnapshot } from '../domain/desk-events.js';
import { isOpen } from '../domain/business-time.js';
import { needsBusinessHours, route, teamsRoleOf, type EventFacts, type NotifyRule } from '../domain/notify-rules.js';
import { calendarFor, type SlaPolicy } from '../domain/sla.js';
import type { Ticket } from '../domain/tickets.js';
import type { Db } from '../store/database.js';
import { enqueueDeliveries, targetsFollowing, type EventDeliveryMessage } from '../store/event-deliveries.js';
import { enqueue } from '../store/outbox.js';
import { findPeople, type Person } from '../store/people.js';
import { channelFor, supportTeamName } from '../store/support-teams.js';

/**
 * Records desk events inside the transaction of the change that caused them, and routes each through
 * the notification rules at once: a delivery row per integration (webhook, PagerDuty, Slack) and an
 * outbox row per Teams channel a rule names, all committed with the change. Targets that posted about
 * the ticket before (a Slack message, a PagerDuty alert) hear its later events too, so they can keep
 * what they posted current.
 *
 * With no rules and no such targets this costs nothing: no snapshot is built and nothing is read.
 */

export interface RecordedEvent {
  /** Stable for the same change, so work done twice (a retried sweep) records it once. */
  id: string;
  type: DeskEventType;
  /** The ticket as it is after the change. */
  ticket: Ticket;
  actorId: number | null;
  data?: Record<string, unknown>;
  /**
   * How the event's Teams card is posted when a rule sends it to a Teams channel: the card kind and
   * the key the desk's own routing posts it under, so a rule repeating that routing posts nothing twice.
   * Without it the ticket's card is posted.
   */
  teamsCard?: { cardKind: string; key: string };
}

/** What the desk's change paths call; `record` returns whether it queued anything (wake the workers). */
export interface EventSink {
  record(tx: Db, event: RecordedEvent, now: number): Promise<boolean>;
}

export class DeskEventRecorder implements EventSink {
  /** Whether any integration follows up tickets it posted about (Slack, PagerDuty). */
  private readonly following: boolean;
  private readonly businessHours: boolean;
  private readonly teamConditions: boolean;

  constructor(
    private readonly deps: {
      /** The rules of NOTIFY_CONFIG (the built-in routing runs in the change paths themselves). */
      rules: readonly NotifyRule[];
      /** Integrations by name: whether each follows up tickets it posted about. */
      integrations: ReadonlyMap<string, { followsTickets: boolean }>;
      policy: SlaPolicy;
    },
  ) {
    this.following = [...deps.integrations.values()].some((i) => i.followsTickets);
    this.businessHours = needsBusinessHours(deps.rules);
    this.teamConditions = deps.rules.some((r) => r.when.team !== undefined);
  }

  async record(tx: Db, event: RecordedEvent, now: number): Promise<boolean> {
    const { rules, integrations } = this.deps;
    if (rules.length === 0 && !this.following) return false;
    const { ticket } = event;
    const facts: EventFacts = {
      type: event.type,
      priority: ticket.priority,
      tier: ticket.tier,
      ticketType: ticket.type,
      teamId: ticket.teamId,
      teamName: this.teamConditions && ticket.teamId ? await supportTeamName(tx, ticket.teamId) : null,
      inBusinessHours: this.businessHours ? isOpen(calendarFor(this.deps.policy, ticket), now) : true,
    };
    const routed = route(rules, facts).map((r) => r.target);
    const followers = this.following ? (await targetsFollowing(tx, ticket.id)).filter((t) => integrations.get(t)?.followsTickets && !routed.includes(t)) : [];
    if (routed.length === 0 && followers.length === 0) return false;

    let queued = false;
    const deliveries: EventDeliveryMessage[] = [];
    let payload: string | undefined;
    const body = async () => (payload ??= JSON.stringify(await this.describe(tx, event, now)));
    for (const target of routed) {
      const role = teamsRoleOf(target);
      if (role) {
        const channel = await channelFor(tx, role);
        if (!channel) continue;
        const card = event.teamsCard ?? { cardKind: 'ticket', key: `${event.id}` };
        await enqueue(tx, [{ idempotencyKey: `${card.key}:conv:${channel.conversationRefId}`, operation: 'send', conversationRefId: channel.conversationRefId, ticketId: ticket.id, cardKind: card.cardKind, activity: null }], now);
        queued = true;
      } else if (integrations.has(target)) {
        deliveries.push({ target, eventId: event.id, eventType: event.type, ticketId: ticket.id, matched: true, payload: await body() });
      }
    }
    for (const target of followers) deliveries.push({ target, eventId: event.id, eventType: event.type, ticketId: ticket.id, matched: false, payload: await body() });
    await enqueueDeliveries(tx, deliveries, now);
    return queued || deliveries.length > 0;
  }

  /** The event as targets receive it. */
  private async describe(tx: Db, event: RecordedEvent, now: number): Promise<DeskEvent> {
    const { ticket } = event;
    const ids = [ticket.requesterId, ticket.assigneeId, event.actorId].filter((id): id is number => id !== null && id !== 0);
    const people = await findPeople(tx, ids);
    const person = (id: number | null) => {
      const p = id === null ? undefined : people.get(id);
      return p ? toEventPerson(p) : null;
    };
    return {
      id: event.id,
      type: event.type,
      version: DESK_EVENT_VERSION,
      occurredAt: new Date(now).toISOString(),
      actor: person(event.actorId),
      ticket: ticketSnapshot(ticket, person(ticket.requesterId), person(ticket.assigneeId)),
      data: event.type === 'ticket.assigned' ? { ...event.data, assignee: person(ticket.assigneeId) } : (event.data ?? {}),
    };
  }
}

export function ticketSnapshot(ticket: Ticket, requester: EventPerson | null, assignee: EventPerson | null): TicketSnapshot {
  return {
    id: ticket.id,
    reference: ticket.reference,
    subject: ticket.subject,
    type: ticket.type,
    status: ticket.status,
    priority: ticket.priority,
    tier: ticket.tier,
    teamId: ticket.teamId,
    requester,
    assignee,
    version: ticket.version,
    createdAt: new Date(ticket.createdAt).toISOString(),
    dueAt: ticket.slaDueAt === null ? null : new Date(ticket.slaDueAt).toISOString(),
  };
}

export const toEventPerson = (p: Pick<Person, 'name' | 'email'>): EventPerson => ({ name: p.name, email: p.email });

/** The event a committed ticket change is, by the kind of its timeline entry. */
export function eventOfChange(entry: { kind: string; visibility: string; body: string; data?: unknown }): { type: DeskEventType; data: Record<string, unknown> } {
  const d = (entry.data ?? {}) as Record<string, unknown>;
  switch (entry.kind) {
    case 'assigned':
    case 'unassigned':
      // The assignee (or null) is added from the ticket when the event is described.
      return { type: 'ticket.assigned', data: {} };
    case 'status':
      return { type: 'ticket.status_changed', data: { from: d.from, to: d.to } };
    case 'priority':
      return { type: 'ticket.priority_changed', data: { from: d.from, to: d.to } };
    case 'reply':
      // Public text only: what the requester sees anyway. Internal notes are 'ticket.updated' without their text.
      return entry.visibility === 'public' ? { type: 'ticket.public_reply', data: { body: entry.body } } : { type: 'ticket.updated', data: { change: entry.kind } };
    default:
      return { type: 'ticket.updated', data: { change: entry.kind } };
  }
}
