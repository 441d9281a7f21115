import { deskEventId } from '../domain/desk-events.js';
import { isAgent, refusal, ticketRefusal } from '../domain/roles.js';
import { escalationLevels, type EscalationTarget, type SlaPolicy } from '../domain/sla.js';
import { correlationId, withCorrelation } from '../log-context.js';
import { cardPostsOfTicket } from '../store/card-posts.js';
import { findPersonalConversation } from '../store/conversation-references.js';
import { inTransaction, type Database, type Db } from '../store/database.js';
import { findEscalation, insertEscalation, openEscalationOf, saveEscalation, timedOutEscalations, type Escalation } from '../store/escalations.js';
import { enqueue, enqueueCardUpdate } from '../store/outbox.js';
import { findPeople, findPersonByIdentity } from '../store/people.js';
import { channelFor } from '../store/support-teams.js';
import type { EventSink } from './desk-events.js';
import type { Surface } from '../store/timeline.js';
import { findTicket } from '../store/tickets.js';
import { addAudit, addTimelineEntry } from '../store/timeline.js';
import { callerOf, type Actor } from './actors.js';
import type { Result } from './result.js';
import type { TicketService } from './tickets.js';

export const escalationCardKind = (id: number) => `escalation:${id}`;

/**
 * Escalations climb the levels of the ticket's team's chain (policy file): each level gets a card with
 * Accept and Decline; accepting assigns the ticket and tells every copy of the card who accepted;
 * declining, or letting the level's time run out, asks the next level; after the last one the channel
 * mapped as escalations is alerted. All of it lands on the ticket's timeline.
 */
export class EscalationService {
  constructor(
    private readonly deps: {
      database: Database;
      policy: SlaPolicy;
      tickets: TicketService;
      clock?: () => number;
      onEnqueued?: () => void;
      /** Where escalation events go (notification rules: PagerDuty, Slack, webhooks). */
      events?: EventSink;
    },
  ) {}

  private get db(): Db {
    return this.deps.database.db;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /**
   * Starts an escalation (by breach, or by hand), unless one is already under way; inside `within`
   * when given. Returns the open escalation, or a reason when there is no chain to climb.
   */
  async start(ticketId: number, start: { trigger: 'breach' | 'manual'; actor: Actor | null; reason: string | null }, within?: Db): Promise<Result<Escalation>> {
    if (start.actor && !isAgent(start.actor.role)) return { ok: false, reason: refusal(start.actor.role, 'assign') ?? 'only support agents can escalate', denied: true };
    const now = this.now();
    const result = await inTransaction(within ?? this.db, async (tx): Promise<Result<Escalation>> => {
      const ticket = await findTicket(tx, ticketId, { lock: this.deps.database.dialect });
      const refused = start.actor ? ticketRefusal(callerOf(start.actor), 'assign', ticketId, ticket) : undefined;
      if (refused) return { ok: false, reason: refused, denied: true };
      if (!ticket) return { ok: false, reason: `there is no ticket #${ticketId}` };
      const running = await openEscalationOf(tx, ticketId);
      if (running) return { ok: false, reason: `${ticket.reference} is already escalated (level ${running.level + 1} of ${running.levels} is being asked)` };
      const levels = escalationLevels(this.deps.policy, ticket.teamId);
      if (levels.length === 0) return { ok: false, reason: 'no escalation chain is configured (see "escalation" in the SLA policy file)' };
      const escalation = await insertEscalation(
        tx,
        { ticketId, levels: levels.length, trigger: start.trigger, reason: start.reason, startedBy: start.actor?.person.id ?? null, timeoutAt: now + levels[0]!.timeoutMs },
        now,
      );
      const why = start.trigger === 'breach' ? 'after an SLA breach' : `by ${start.actor!.person.name}`;
      await addTimelineEntry(tx, { ticketId, at: now, kind: 'escalation', visibility: 'internal', authorId: start.actor?.person.id ?? null, body: `Escalated ${why}${start.reason ? `: ${start.reason}` : ''}; asking level 1 of ${levels.length}`, data: { escalationId: escalation.id } });
      await addAudit(tx, { at: now, actorId: start.actor?.person.id ?? null, action: 'escalation.start', ticketId, surface: start.actor ? 'chat' : 'system', details: { escalationId: escalation.id, trigger: start.trigger } });
      await this.ask(tx, escalation, levels[0]!.notify, now);
      return { ok: true, value: escalation, notice: `${ticket.reference} is escalated: level 1 of ${levels.length} has been asked` };
    });
    if (result.ok) this.deps.onEnqueued?.();
    return result;
  }

  async accept(actor: Actor, escalationId: number, surface: Surface = 'card'): Promise<Result<Escalation>> {
    if (!isAgent(actor.role)) return { ok: false, reason: refusal(actor.role, 'assign') ?? 'only support agents can accept escalations', denied: true };
    const now = this.now();
    const result = await this.db.transaction().execute(async (tx): Promise<Result<Escalation>> => {
      const escalation = await findEscalation(tx, escalationId, { lock: this.deps.database.dialect });
      const refused = await this.refusalFor(tx, actor, escalationId, escalation);
      if (refused || !escalation) return { ok: false, reason: refused ?? 'that escalation does not exist', denied: true };
      if (escalation.state === 'accepted') {
        const by = (await findPeople(tx, [escalation.acceptedBy!])).get(escalation.acceptedBy!);
        return { ok: false, reason: `already accepted by ${by?.name ?? 'someone else'}` };
      }
      const assigned = await this.deps.tickets.assign({ actor, surface }, escalation.ticketId, actor.person, tx);
      if (!assigned.ok && !/already assigned to/.test(assigned.reason)) return { ok: false, reason: assigned.reason, ...(assigned.denied ? { denied: true as const } : {}) };
      const accepted: Escalation = { ...escalation, state: 'accepted', acceptedBy: actor.person.id, acceptedAt: now, timeoutAt: null };
      await saveEscalation(tx, accepted);
      await addTimelineEntry(tx, { ticketId: escalation.ticketId, at: now, kind: 'escalation', visibility: 'internal', authorId: actor.person.id, body: `Escalation accepted by ${actor.person.name} at level ${escalation.level + 1}`, data: { escalationId } });
      await addAudit(tx, { at: now, actorId: actor.person.id, action: 'escalation.accept', ticketId: escalation.ticketId, surface, details: { escalationId, level: escalation.level } });
      await this.refreshCards(tx, accepted, now);
      await this.announce(tx, accepted, 'escalation.accepted', actor.person.id, now);
      return { ok: true, value: accepted, notice: `You accepted the escalation; the ticket is yours` };
    });
    if (result.ok) this.deps.onEnqueued?.();
    return result;
  }

  async decline(actor: Actor, escalationId: number, reason: string | null, surface: Surface = 'card'): Promise<Result<Escalation>> {
    if (!isAgent(actor.role)) return { ok: false, reason: refusal(actor.role, 'assign') ?? 'only support agents can decline escalations', denied: true };
    const now = this.now();
    const result = await this.db.transaction().execute(async (tx): Promise<Result<Escalation>> => {
      const escalation = await findEscalation(tx, escalationId, { lock: this.deps.database.dialect });
      const refused = await this.refusalFor(tx, actor, escalationId, escalation);
      if (refused || !escalation) return { ok: false, reason: refused ?? 'that escalation does not exist', denied: true };
      if (escalation.state !== 'open') return { ok: false, reason: escalation.state === 'accepted' ? 'it was accepted already' : 'every level has been asked already' };
      const declined = { ...escalation, history: [...escalation.history, { level: escalation.level, outcome: 'declined' as const, by: actor.person.id, reason, at: now }] };
      await addTimelineEntry(tx, { ticketId: escalation.ticketId, at: now, kind: 'escalation', visibility: 'internal', authorId: actor.person.id, body: `Escalation declined by ${actor.person.name} at level ${escalation.level + 1}${reason ? `: ${reason}` : ''}`, data: { escalationId } });
      await addAudit(tx, { at: now, actorId: actor.person.id, action: 'escalation.decline', ticketId: escalation.ticketId, surface, details: { escalationId, level: escalation.level, reason } });
      const next = await this.advance(tx, declined, now);
      return { ok: true, value: next, notice: next.state === 'open' ? `Declined; level ${next.level + 1} has been asked` : 'Declined; every level has now been asked, and the escalations channel alerted' };
    });
    if (result.ok) this.deps.onEnqueued?.();
    return result;
  }

  /** An escalation of a ticket the agent may not work (another support team's) reads like none at all. */
  private async refusalFor(tx: Db, actor: Actor, escalationId: number, escalation: Escalation | undefined): Promise<string | undefined> {
    const ticket = escalation && (await findTicket(tx, escalation.ticketId));
    return ticketRefusal(callerOf(actor), 'assign', escalationId, ticket) && 'that escalation does not exist';
  }

  /** Moves every escalation whose level's time is up to its next level; returns how many moved. */
  async timeouts(limit = 100): Promise<number> {
    const now = this.now();
    let moved = 0;
    for (const id of await timedOutEscalations(this.db, now, limit)) {
      await withCorrelation(correlationId('escalation', id), () => this.db.transaction().execute(async (tx) => {
        const escalation = await findEscalation(tx, id, { lock: this.deps.database.dialect });
        // Someone else (another replica, an Accept) may have got there first.
        if (!escalation || escalation.state !== 'open' || escalation.timeoutAt === null || escalation.timeoutAt > now) return;
        await addTimelineEntry(tx, { ticketId: escalation.ticketId, at: now, kind: 'escalation', visibility: 'internal', authorId: null, body: `Level ${escalation.level + 1} did not accept in time`, data: { escalationId: id } });
        await this.advance(tx, { ...escalation, history: [...escalation.history, { level: escalation.level, outcome: 'timed-out', at: now }] }, now);
        moved += 1;
      }));
    }
    if (moved > 0) this.deps.onEnqueued?.();
    return moved;
  }

  private async advance(tx: Db, escalation: Escalation, now: number): Promise<Escalation> {
    const ticket = await findTicket(tx, escalation.ticketId);
    const levels = escalationLevels(this.deps.policy, ticket?.teamId ?? null);
    const nextLevel = escalation.level + 1;
    const next: Escalation =
      nextLevel < Math.min(levels.length, escalation.levels)
        ? { ...escalation, level: nextLevel, timeoutAt: now + levels[nextLevel]!.timeoutMs }
        : { ...escalation, state: 'exhausted', timeoutAt: null };
    await saveEscalation(tx, next);
    await this.refreshCards(tx, next, now);
    if (next.state === 'open') {
      await this.ask(tx, next, levels[nextLevel]!.notify, now);
    } else {
      await addTimelineEntry(tx, { ticketId: escalation.ticketId, at: now, kind: 'escalation', visibility: 'internal', authorId: null, body: 'Nobody accepted the escalation; the escalations channel was alerted', data: { escalationId: escalation.id } });
      await this.ask(tx, next, { kind: 'channel', role: 'escalations' }, now);
    }
    return next;
  }

  /** Sends the escalation card to a level's target (a mapped channel, or a person's personal chat). */
  private async ask(tx: Db, escalation: Escalation, target: EscalationTarget, now: number): Promise<void> {
    await this.announce(tx, escalation, escalation.state === 'exhausted' ? 'escalation.unanswered' : 'escalation.raised', null, now);
    let conversationRefId: number | undefined;
    if (target.kind === 'channel') {
      conversationRefId = (await channelFor(tx, target.role))?.conversationRefId;
    } else {
      const person = await findPersonByIdentity(tx, { aadObjectId: target.id, teamsId: target.id });
      const chat = await findPersonalConversation(tx, { aadObjectId: person?.aadObjectId ?? target.id, teamsId: person?.teamsId ?? target.id });
      conversationRefId = chat?.id;
    }
    if (conversationRefId === undefined) {
      await addTimelineEntry(tx, { ticketId: escalation.ticketId, at: now, kind: 'escalation', visibility: 'internal', authorId: null, body: `Level ${escalation.level + 1} could not be reached: ${target.kind === 'channel' ? `no channel is mapped as ${target.role}` : 'that person has no chat with the bot'}` });
      return;
    }
    await enqueue(
      tx,
      [{ idempotencyKey: `escalation:${escalation.id}:level:${escalation.level}:${escalation.state}:conv:${conversationRefId}`, operation: 'send', conversationRefId, ticketId: escalation.ticketId, cardKind: escalationCardKind(escalation.id), activity: null }],
      now,
    );
  }

  /**
   * The escalation's desk event: raised (each level asked), unanswered (no level accepted), accepted.
   * Keyed like the level's card, so a rule sending escalations to a channel the policy asks posts once.
   */
  private async announce(tx: Db, escalation: Escalation, type: 'escalation.raised' | 'escalation.unanswered' | 'escalation.accepted', actorId: number | null, now: number): Promise<void> {
    const ticket = this.deps.events && (await findTicket(tx, escalation.ticketId));
    if (!ticket) return;
    const key = `escalation:${escalation.id}:level:${escalation.level}:${escalation.state}`;
    await this.deps.events!.record(
      tx,
      {
        id: deskEventId(`t${ticket.id}`, `esc${escalation.id}`, `l${escalation.level}`, type),
        type,
        ticket,
        actorId,
        data: { escalationId: escalation.id, level: escalation.level + 1, levels: escalation.levels, trigger: escalation.trigger },
        teamsCard: { cardKind: escalationCardKind(escalation.id), key },
      },
      now,
    );
  }

  /** Every posted copy of the escalation's card shows its new state. */
  private async refreshCards(tx: Db, escalation: Escalation, now: number): Promise<void> {
    for (const post of await cardPostsOfTicket(tx, escalation.ticketId)) {
      if (post.kind !== escalationCardKind(escalation.id)) continue;
      await enqueueCardUpdate(tx, { postId: post.id, conversationRefId: post.conversationRefId, activityId: post.activityId, ticketId: escalation.ticketId, cardKind: post.kind, version: now }, now);
    }
  }
}
