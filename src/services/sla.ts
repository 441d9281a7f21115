import { deskEventId } from '../domain/desk-events.js';
import { isAgent, refusal, ticketRefusal } from '../domain/roles.js';
import { calendarFor, dueAt, formatBusinessTime, type Clock, type SlaPolicy } from '../domain/sla.js';
import { sweepTicket, type SlaEvent } from '../domain/sla-sweep.js';
import { quietUntil } from '../domain/quiet-hours.js';
import { isOpenStatus, type Ticket } from '../domain/tickets.js';
import { cardPostsOfTicket, homeChannelOf } from '../store/card-posts.js';
import { findPersonalConversation } from '../store/conversation-references.js';
import type { Database, Db } from '../store/database.js';
import { enqueue, enqueueCardUpdate, supersedePending } from '../store/outbox.js';
import { findPeople } from '../store/people.js';
import { firedEvents, recordEvents, saveSnooze, setNextSlaCheck, snoozesOf } from '../store/sla.js';
import { channelFor } from '../store/support-teams.js';
import { findTicket } from '../store/tickets.js';
import { addAudit, addTimelineEntry } from '../store/timeline.js';
import { callerOf, type Actor } from './actors.js';
import type { EscalationService } from './escalations.js';
import type { EventSink } from './desk-events.js';
import type { Surface } from '../store/timeline.js';
import type { Result } from './result.js';

const CLOCK_NAMES: Record<Clock, string> = { first_response: 'first response', resolution: 'resolution' };

/**
 * SLA events on tickets: the sweep's work for one ticket (record what fired, tell the people it
 * concerns, look again when the next threshold comes) and snoozes, each in one transaction with its
 * timeline entry, audit row and outbox rows.
 */
export class SlaService {
  constructor(
    private readonly deps: {
      database: Database;
      policy: SlaPolicy;
      /** Breaches start the ticket's escalation chain. */
      escalations?: EscalationService;
      clock?: () => number;
      onEnqueued?: () => void;
      /** Where SLA events go (notification rules: PagerDuty, Slack, webhooks, channels). */
      events?: EventSink;
    },
  ) {}

  private get db(): Db {
    return this.deps.database.db;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** Sweeps one ticket; returns the events people were told about. */
  async sweep(ticketId: number): Promise<SlaEvent[]> {
    const now = this.now();
    const sent = await this.db.transaction().execute(async (tx) => {
      const ticket = await findTicket(tx, ticketId, { lock: this.deps.database.dialect });
      if (!ticket || !ticket.slaClocks || !isOpenStatus(ticket.status)) {
        if (ticket) await setNextSlaCheck(tx, ticketId, null);
        return [];
      }
      const snoozes = await snoozesOf(tx, ticketId);
      const decision = sweepTicket({
        policy: this.deps.policy,
        ticket,
        clocks: ticket.slaClocks,
        now,
        fired: await firedEvents(tx, ticketId),
        snoozedUntil: Object.fromEntries(Object.entries(snoozes).map(([clock, s]) => [clock, s!.until])),
      });
      const recorded = await recordEvents(tx, ticketId, decision.events, now);
      const toSend = recorded.filter((e) => e.outcome === 'sent');
      for (const event of toSend) await this.announce(tx, ticket, event, now);
      if (toSend.some((e) => e.kind === 'breach')) {
        // A second breach (the other clock) finds the escalation already under way, which is fine.
        await this.deps.escalations?.start(ticketId, { trigger: 'breach', actor: null, reason: null }, tx);
      }
      if (recorded.length > 0) {
        // The SLA line on every copy of the ticket's card moves with each event.
        for (const post of await cardPostsOfTicket(tx, ticketId)) {
          await enqueueCardUpdate(tx, { postId: post.id, conversationRefId: post.conversationRefId, activityId: post.activityId, ticketId, cardKind: post.kind, version: ticket.version }, now);
        }
      }
      await setNextSlaCheck(tx, ticketId, decision.nextCheckAt);
      return toSend;
    });
    if (sent.length > 0) this.deps.onEnqueued?.();
    return sent;
  }

  /** Silences a clock's warnings for `minutes`, never past its breach; recorded on the timeline. */
  async snooze(actor: Actor, ticketId: number, clock: Clock, minutes: number, surface: Surface = 'card'): Promise<Result<{ until: number }>> {
    if (!isAgent(actor.role)) return { ok: false, reason: refusal(actor.role, 'status') ?? 'only support agents can snooze warnings', denied: true };
    const now = this.now();
    const outcome = await this.db.transaction().execute(async (tx): Promise<Result<{ until: number }>> => {
      const ticket = await findTicket(tx, ticketId, { lock: this.deps.database.dialect });
      const refused = ticketRefusal(callerOf(actor), 'status', ticketId, ticket);
      if (refused) return { ok: false, reason: refused, denied: true };
      if (!ticket || !ticket.slaClocks) return { ok: false, reason: `there is no ticket #${ticketId} with SLA clocks` };
      const state = clock === 'first_response' ? ticket.slaClocks.firstResponse : ticket.slaClocks.resolution;
      const due = dueAt(state, calendarFor(this.deps.policy, ticket));
      if (due === null || due <= now) return { ok: false, reason: `the ${CLOCK_NAMES[clock]} clock of ${ticket.reference} is not running towards a breach`, ticket };
      const until = Math.min(now + minutes * 60_000, due);
      await saveSnooze(tx, { ticketId, clock, until, byPersonId: actor.person.id }, now);
      const untilText = new Date(until).toISOString().slice(11, 16);
      await addTimelineEntry(tx, { ticketId, at: now, kind: 'sla', visibility: 'internal', authorId: actor.person.id, body: `${CLOCK_NAMES[clock]} warnings snoozed until ${untilText} UTC`, data: { clock, until } });
      await addAudit(tx, { at: now, actorId: actor.person.id, action: 'sla.snooze', ticketId, surface, details: { clock, until } });
      for (const post of await cardPostsOfTicket(tx, ticketId)) {
        if (!post.kind.startsWith('sla-warning')) continue;
        await enqueueCardUpdate(tx, { postId: post.id, conversationRefId: post.conversationRefId, activityId: post.activityId, ticketId, cardKind: post.kind, version: ticket.version }, now);
      }
      return { ok: true, value: { until }, notice: `Warnings snoozed until ${untilText} UTC` };
    });
    if (outcome.ok) this.deps.onEnqueued?.();
    return outcome;
  }

  /**
   * Tells the people an event concerns: a warning goes to the assignee's personal chat, or to the
   * triage channel while nobody has the ticket; a breach goes to the assignee and to the channel mapped
   * as sla-breaches (the triage channel when none is).
   */
  private async announce(tx: Db, ticket: Ticket, event: SlaEvent, now: number): Promise<void> {
    const what = event.kind === 'warning' ? `${CLOCK_NAMES[event.clock]} warning (${event.threshold}): ${formatBusinessTime(event.remainingMs)} left` : `${CLOCK_NAMES[event.clock]} breached`;
    await addTimelineEntry(tx, { ticketId: ticket.id, at: now, kind: 'sla', visibility: 'internal', authorId: null, body: `SLA ${what}`, data: event });
    await addAudit(tx, { at: now, actorId: null, action: `sla.${event.kind}`, ticketId: ticket.id, surface: 'system', details: event });

    const targets = new Set<number>();
    let hold: { conversationRefId: number; until: number } | undefined;
    if (ticket.assigneeId !== null) {
      const assignee = (await findPeople(tx, [ticket.assigneeId])).get(ticket.assigneeId);
      const chat = assignee && (await findPersonalConversation(tx, { aadObjectId: assignee.aadObjectId, teamsId: assignee.teamsId }));
      if (chat) {
        targets.add(chat.id);
        // Quiet hours hold warnings on anything but a P1 until the morning; breaches always go.
        const quietEnds = event.kind === 'warning' && ticket.priority !== 'P1' && assignee.quiet ? quietUntil(assignee.quiet, assignee.timeZone ?? 'UTC', now) : null;
        if (quietEnds !== null) hold = { conversationRefId: chat.id, until: quietEnds };
      }
    }
    if (event.kind === 'breach' || targets.size === 0) {
      // The team's channel: the one the ticket's card lives in, else the mapped channel for the event.
      const home = await homeChannelOf(tx, ticket.id);
      const mapped = (event.kind === 'breach' ? await channelFor(tx, 'sla-breaches') : undefined) ?? (await channelFor(tx, 'triage'));
      const channel = event.kind === 'breach' ? (mapped?.conversationRefId ?? home) : (home ?? mapped?.conversationRefId);
      if (channel !== undefined) targets.add(channel);
    }
    const key = `sla:${ticket.id}:${event.clock}:${event.kind}:${event.threshold}:${event.cycle}`;
    for (const conversationRefId of targets) {
      // A warning still waiting for the same person about the same ticket is replaced, not piled up.
      if (event.kind === 'warning') await supersedePending(tx, { conversationRefId, ticketId: ticket.id, cardKindPrefix: 'sla-warning' });
    }
    await enqueue(
      tx,
      [...targets].map((conversationRefId) => ({
        idempotencyKey: `${key}:conv:${conversationRefId}`,
        operation: 'send' as const,
        conversationRefId,
        ticketId: ticket.id,
        cardKind: `sla-${event.kind}:${event.clock}`,
        activity: null,
        ...(hold?.conversationRefId === conversationRefId ? { notBefore: hold.until } : {}),
      })),
      now,
    );
    // After the desk's own cards, keyed like them: a rule sending the event to a channel it already goes
    // to posts nothing twice (and is not taken for an older warning to supersede).
    await this.deps.events?.record(
      tx,
      {
        id: deskEventId(`t${ticket.id}`, 'sla', event.clock, event.kind, event.threshold, event.cycle),
        type: event.kind === 'warning' ? 'sla.warning' : 'sla.breach',
        ticket,
        actorId: null,
        data: { clock: event.clock, threshold: event.threshold, remainingMinutes: Math.round(event.remainingMs / 60_000) },
        teamsCard: { cardKind: `sla-${event.kind}:${event.clock}`, key },
      },
      now,
    );
  }
}
