import { isAgent, priorityAllowed, refusal, ticketRefusal, type Audience, type TicketAction } from '../domain/roles.js';
import { calendarFor, type SlaPolicy } from '../domain/sla.js';
import { afterFirstResponse, afterRetarget, afterStatusChange, slaColumns, startClocks, type SlaColumns } from '../domain/ticket-sla.js';
import type { ListKind } from '../domain/commands.js';
import type { TicketType } from '../domain/ticket-reference.js';
import {
  checkStatusChange,
  DESCRIPTION_MAX,
  NOTE_MAX,
  PRIORITIES,
  PRIORITY_LABELS,
  STATUS_LABELS,
  SUBJECT_MAX,
  type CrmStatus,
  type Priority,
  type StatusChange,
  type Ticket,
  type TicketSource,
} from '../domain/tickets.js';
import type { Logger } from '../logger.js';
import { cardPostsOfTicket, recordCardPost } from '../store/card-posts.js';
import { findPersonalConversation } from '../store/conversation-references.js';
import { inTransaction, type Database, type Db } from '../store/database.js';
import { enqueue, enqueueCardUpdate, type OutboxMessage } from '../store/outbox.js';
import { findPeople, findPerson, type Person } from '../store/people.js';
import { teamsOfPerson } from '../store/support-teams.js';
import { findTicket, insertTicket, listBreaching, listTickets, updateTicket, type ListCursor, type TicketChanges } from '../store/tickets.js';
import { addAudit, addTimelineEntry, listTimeline, type Surface, type TimelineEntry, type Visibility } from '../store/timeline.js';
import { callerOf, type Actor } from './actors.js';

/**
 * Every change to a ticket, whatever surface it came from (typed command, card button, later email and
 * SLA events), goes through here: the caller's right to make it is checked, then the ticket, its
 * timeline entry, an audit row and the outbox rows for what it causes (in-place updates of every
 * posted copy of its card, notifications) are written in one transaction. Nothing is sent from here.
 */

/**
 * What a use case answers. `denied`: the caller may not do this (or may not know the ticket exists),
 * so a surface shows the reason and nothing of the ticket.
 */
export type Result<T> = { ok: true; value: T; notice: string } | { ok: false; reason: string; ticket?: Ticket; denied?: true };

export interface ChangeContext {
  actor: Actor;
  surface: Surface;
}

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

/**
 * Where a public reply by an agent also has to go besides Teams: the email thread of a ticket that came
 * by email. Called inside the change's transaction, so the reply and the mail queued for it commit together.
 */
/** The CRM facts a new ticket starts with, from the cache (never a call to the CRM): its tier, and whether a lookup is queued. */
export interface CrmAtCreation {
  atCreation(tx: Db, requesterId: number, now: number): Promise<{ tier: string | undefined; crmStatus: CrmStatus }>;
}

/** Changes the desk makes by itself (CRM enrichment): no person is the author. */
export const SYSTEM_ACTOR: Actor = {
  person: { id: 0, teamsId: null, aadObjectId: null, tenantId: null, name: 'Service Desk', email: null, role: 'admin', timeZone: null, quiet: null },
  role: 'admin',
};

export interface ReplyChannel {
  queueReply(tx: Db, ticket: Ticket, reply: { body: string; authorId: number; version: number }, now: number): Promise<boolean>;
}

export interface TicketPage {
  tickets: Ticket[];
  people: Map<number, Person>;
  /** Where the next page starts, when there is one. */
  next: ListCursor | undefined;
}

export const PAGE_SIZE = 10;

/** "Breaching": already overdue, or due within this much wall-clock time. */
const BREACHING_HORIZON_MS = 2 * 3_600_000;

/** How long posted card copies wait to be recorded together. */
const COPY_BATCH_MS = 20;

export interface CardCopy {
  ticketId: number;
  conversationRefId: number;
  activityId: string;
  /** The ticket version the posted card shows. */
  renderedVersion: number;
}

/** What an applied change adds to the ticket's record, and who hears about it. */
interface Applied {
  ok: true;
  changes: TicketChanges;
  timeline: { kind: string; visibility: Visibility; body: string; data?: unknown };
  notice: string;
  /** A card or message to the personal chat of each person named, unless they made the change. */
  notify?: Array<{ personId: number; purpose: string; activity: Record<string, unknown> | null }>;
  /** More work in the same transaction once the ticket is updated; true when it queued something. */
  after?: (tx: Db, updated: Ticket, now: number) => Promise<boolean>;
}
type Refused = { ok: false; reason: string };

export class TicketService {
  private readonly pendingCopies: CardCopy[] = [];
  private copiesFlush: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      database: Database;
      /** The SLA policy: targets, calendars, warning thresholds. */
      sla: SlaPolicy;
      clock?: () => number;
      /** Called after a commit that queued outbox rows, so the worker looks at once. */
      onEnqueued?: () => void;
      /** Background work that failed (nobody awaits it to hear about it). */
      onError?: (error: unknown, what: string) => void;
      /** Email replies for tickets that came by email. */
      replies?: ReplyChannel;
      /** CRM facts (tier) for new tickets, from the enrichment cache. */
      crm?: CrmAtCreation;
      /** One line per committed change: the ticket, what happened, from where (never its text). */
      logger?: Logger;
      /** The most urgent priority a requester may give a new ticket (REQUESTER_MAX_PRIORITY); P2 by default. */
      requesterMaxPriority?: Priority;
    },
  ) {}

  private get db(): Db {
    return this.deps.database.db;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** Opens a ticket; inside `within` (the caller's transaction, e.g. email intake) when given. */
  async create(ctx: ChangeContext, input: NewTicketInput, within?: Db): Promise<Result<Ticket>> {
    const refused = refusal(ctx.actor.role, 'create');
    if (refused) return { ok: false, reason: refused };
    const subject = input.subject.trim();
    if (!subject) return { ok: false, reason: 'a ticket needs a subject' };
    if (subject.length > SUBJECT_MAX) return { ok: false, reason: `the subject is longer than ${SUBJECT_MAX} characters` };
    if (input.description.length > DESCRIPTION_MAX) return { ok: false, reason: `the description is longer than ${DESCRIPTION_MAX} characters` };

    const now = this.now();
    const requesterId = input.requesterId ?? ctx.actor.person.id;
    const priority = priorityAllowed(ctx.actor.role, input.priority, this.deps.requesterMaxPriority ?? 'P2', PRIORITIES);
    const ticket = await inTransaction(within ?? this.db, async (tx) => {
      // A known requester's tier comes from the CRM cache, so the SLA starts right; an unknown one is looked up in the background.
      const crm = (await this.deps.crm?.atCreation(tx, requesterId, now)) ?? { tier: undefined, crmStatus: 'none' as const };
      const tier = crm.tier ?? this.deps.sla.defaultTier;
      const slaSubject = { priority, tier, teamId: input.teamId };
      const sla = slaColumns(this.deps.sla, slaSubject, startClocks(this.deps.sla, slaSubject, now), now);
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
      return created;
    });
    // Inside someone else's transaction nothing is committed yet: waking the worker is theirs to do.
    if (!within) {
      this.deps.onEnqueued?.();
      this.deps.logger?.info({ ticket: ticket.reference, source: input.source, priority, surface: ctx.surface }, 'ticket created');
    }
    const lowered = priority !== input.priority ? ` as ${priority}: agents set ${input.priority} when they triage it` : '';
    return { ok: true, value: ticket, notice: `Created ${ticket.reference}${lowered}` };
  }

  /** Assigns the ticket to the caller, unless someone has it already: of two racing takes, one wins. */
  take(ctx: ChangeContext, id: number): Promise<Result<Ticket>> {
    return this.change(ctx, id, 'take', async (tx, ticket) => {
      if (ticket.assigneeId === ctx.actor.person.id) return { ok: false, reason: `${ticket.reference} is already yours` };
      if (ticket.assigneeId !== null) {
        const holder = await findPerson(tx, ticket.assigneeId);
        return { ok: false, reason: `${ticket.reference} was already taken by ${holder?.name ?? 'someone else'}` };
      }
      if (ticket.status === 'closed') return { ok: false, reason: `${ticket.reference} is closed; reopen it first` };
      return {
        ok: true,
        changes: { assigneeId: ctx.actor.person.id, ...(ticket.status === 'new' ? { status: 'open' as const } : {}) },
        timeline: { kind: 'assigned', visibility: 'internal', body: `Taken by ${ctx.actor.person.name}`, data: { assigneeId: ctx.actor.person.id } },
        notice: `You took ${ticket.reference}`,
      };
    });
  }

  /** Assigns to an agent; inside `within` (another service's transaction) when given. */
  assign(ctx: ChangeContext, id: number, assignee: Person, within?: Db): Promise<Result<Ticket>> {
    return this.change(ctx, id, 'assign', async (_tx, ticket) => {
      if (ticket.assigneeId === assignee.id) return { ok: false, reason: `${ticket.reference} is already assigned to ${assignee.name}` };
      if (ticket.status === 'closed') return { ok: false, reason: `${ticket.reference} is closed; reopen it first` };
      return {
        ok: true,
        changes: { assigneeId: assignee.id, ...(ticket.status === 'new' ? { status: 'open' as const } : {}) },
        timeline: { kind: 'assigned', visibility: 'internal', body: `Assigned to ${assignee.name} by ${ctx.actor.person.name}`, data: { assigneeId: assignee.id } },
        notice: `${ticket.reference} is now assigned to ${assignee.name}`,
        notify: [{ personId: assignee.id, purpose: 'assigned', activity: null }],
      };
    }, within);
  }

  unassign(ctx: ChangeContext, id: number): Promise<Result<Ticket>> {
    return this.change(ctx, id, 'assign', async (_tx, ticket) => {
      if (ticket.assigneeId === null) return { ok: false, reason: `${ticket.reference} is not assigned to anyone` };
      return {
        ok: true,
        changes: { assigneeId: null },
        timeline: { kind: 'unassigned', visibility: 'internal', body: `Unassigned by ${ctx.actor.person.name}` },
        notice: `${ticket.reference} is unassigned`,
      };
    });
  }

  setPriority(ctx: ChangeContext, id: number, priority: Priority): Promise<Result<Ticket>> {
    return this.change(ctx, id, 'priority', async (_tx, ticket) => {
      if (ticket.priority === priority) return { ok: false, reason: `${ticket.reference} is already ${priority}` };
      return {
        ok: true,
        changes: { priority },
        timeline: { kind: 'priority', visibility: 'internal', body: `Priority ${ticket.priority} → ${priority}`, data: { from: ticket.priority, to: priority } },
        notice: `${ticket.reference} is now ${PRIORITY_LABELS[priority]}`,
      };
    });
  }

  changeStatus(ctx: ChangeContext, id: number, to: StatusChange, note?: string): Promise<Result<Ticket>> {
    const action: TicketAction = to === 'open' ? 'reopen' : 'status';
    return this.change(ctx, id, action, async (_tx, ticket) => {
      if (note && note.length > NOTE_MAX) return { ok: false, reason: `the note is longer than ${NOTE_MAX} characters` };
      const blocked = checkStatusChange(ticket.status, to);
      if (blocked) return { ok: false, reason: `${ticket.reference} can't be ${to === 'open' ? 'reopened' : `set to ${STATUS_LABELS[to].toLowerCase()}`}: ${blocked}` };
      const now = this.now();
      const changes: TicketChanges = { status: to };
      if (to === 'resolved') changes.resolvedAt = now;
      if (to === 'closed') changes.closedAt = now;
      if (to === 'open') Object.assign(changes, { resolvedAt: null, closedAt: null });
      const verb = to === 'open' && (ticket.status === 'resolved' || ticket.status === 'closed') ? 'Reopened' : `Set to ${STATUS_LABELS[to].toLowerCase()}`;
      const body = `${verb} by ${ctx.actor.person.name}${note ? `: ${note}` : ''}`;
      const tellRequester = to === 'resolved' || to === 'closed' || (to === 'open' && verb === 'Reopened');
      return {
        ok: true,
        changes,
        timeline: { kind: 'status', visibility: tellRequester || to === 'pending' ? 'public' : 'internal', body, data: { from: ticket.status, to } },
        notice: `${ticket.reference} is ${to === 'open' ? (verb === 'Reopened' ? 'reopened' : 'open') : STATUS_LABELS[to].toLowerCase()}`,
        notify: tellRequester ? [{ personId: ticket.requesterId, purpose: `status-${to}`, activity: null }] : [],
      };
    });
  }

  /** An internal note (agents) or a public reply (agents and the requester); a reply counts as first response. */
  comment(ctx: ChangeContext, id: number, text: string, visibility: Visibility): Promise<Result<Ticket>> {
    const action: TicketAction = visibility === 'internal' ? 'note' : 'comment';
    return this.change(ctx, id, action, async (_tx, ticket) => {
      const body = text.trim();
      if (!body) return { ok: false, reason: 'the note is empty' };
      if (body.length > NOTE_MAX) return { ok: false, reason: `the text is longer than ${NOTE_MAX} characters` };
      const byAgent = isAgent(ctx.actor.role);
      const changes: TicketChanges = {};
      if (visibility === 'public' && byAgent && ticket.firstResponseAt === null) changes.firstResponseAt = this.now();
      // A requester writing on a ticket waiting for them hands it back to the agents.
      if (visibility === 'public' && !byAgent && ticket.status === 'pending') changes.status = 'open';
      const notify = visibility === 'public' ? (byAgent ? [ticket.requesterId] : ticket.assigneeId !== null ? [ticket.assigneeId] : []) : [];
      const replies = this.deps.replies;
      const byEmail = visibility === 'public' && byAgent && ticket.source === 'email' && replies !== undefined;
      return {
        ok: true,
        changes,
        timeline: { kind: visibility === 'public' ? 'reply' : 'note', visibility, body },
        notice: visibility === 'public' ? `${byEmail ? 'Reply emailed on' : 'Reply added to'} ${ticket.reference}` : `Internal note added to ${ticket.reference}`,
        notify: notify.map((personId) => ({ personId, purpose: `reply`, activity: null })),
        ...(byEmail ? { after: (tx: Db, updated: Ticket, now: number) => replies.queueReply(tx, updated, { body, authorId: ctx.actor.person.id, version: updated.version }, now) } : {}),
      };
    });
  }

  /**
   * A customer's email on a ticket (threaded by intake): a public reply from them that reopens a
   * resolved ticket (the caller decided it is within the reopen window), hands a pending one back to
   * the agents, updates every card and tells the assignee. The thread is the authority here, not the
   * sender's role: a colleague the customer copied may answer too.
   */
  receiveEmail(from: Actor, id: number, text: string, origin: Record<string, unknown>, within: Db): Promise<Result<Ticket>> {
    return this.change(
      { actor: from, surface: 'email' },
      id,
      'comment',
      async (_tx, ticket) => {
        const body = text.trim().slice(0, NOTE_MAX) || '(no text)';
        const changes: TicketChanges = {};
        const reopened = ticket.status === 'resolved' || ticket.status === 'closed';
        if (reopened) Object.assign(changes, { status: 'open' as const, resolvedAt: null, closedAt: null });
        else if (ticket.status === 'pending') changes.status = 'open';
        return {
          ok: true,
          changes,
          timeline: { kind: 'reply', visibility: 'public', body, data: { email: origin, ...(reopened ? { reopened: true } : {}) } },
          notice: reopened ? `${ticket.reference} reopened by ${from.person.name}'s email` : `Email from ${from.person.name} added to ${ticket.reference}`,
          notify: ticket.assigneeId !== null ? [{ personId: ticket.assigneeId, purpose: 'email', activity: null }] : [],
        };
      },
      within,
      { trusted: true },
    );
  }

  /** An agent sets the tier (and so the SLA targets) by hand; the CRM no longer changes it. */
  setTier(ctx: ChangeContext, id: number, tier: string, reason: string | undefined): Promise<Result<Ticket>> {
    return this.change(ctx, id, 'priority', async (_tx, ticket) => {
      const known = this.deps.sla.tiers;
      if (!known.includes(tier)) return { ok: false, reason: `there is no tier "${tier}"; the SLA policy has ${known.join(', ')}` };
      if (ticket.tier === tier && ticket.tierSource === 'agent') return { ok: false, reason: `${ticket.reference} is already ${tier}` };
      const why = reason?.trim();
      return {
        ok: true,
        changes: { tier, tierSource: 'agent' },
        timeline: { kind: 'tier', visibility: 'internal', body: `Tier ${ticket.tier} → ${tier} by ${ctx.actor.person.name}${why ? `: ${why}` : ''}`, data: { from: ticket.tier, to: tier, source: 'agent', ...(why ? { reason: why } : {}) } },
        notice: `${ticket.reference} is now ${tier}; its SLA targets follow`,
      };
    });
  }

  /**
   * What the CRM says about the requester, applied: the tier (unless an agent chose one), which
   * recomputes the SLA keeping the business time used, and whether CRM facts are available. Every card
   * of the ticket is refreshed, so the badge and customer facts appear where the ticket is shown.
   */
  applyCrm(id: number, update: { tier: string | undefined; crmStatus: CrmStatus; because: string }): Promise<Result<Ticket>> {
    return this.change({ actor: SYSTEM_ACTOR, surface: 'system' }, id, 'priority', async (_tx, ticket) => {
      const tier = ticket.tierSource === 'agent' ? ticket.tier : (update.tier ?? (ticket.tierSource === 'crm' ? this.deps.sla.defaultTier : ticket.tier));
      const tierChanged = tier !== ticket.tier;
      if (!tierChanged && update.crmStatus === ticket.crmStatus) return { ok: false, reason: 'nothing to change' };
      return {
        ok: true,
        changes: { crmStatus: update.crmStatus, ...(tierChanged ? { tier, tierSource: update.tier ? ('crm' as const) : ('default' as const) } : {}) },
        timeline: tierChanged
          ? { kind: 'tier', visibility: 'internal', body: `Tier ${ticket.tier} → ${tier} (${update.because}); SLA due times recomputed`, data: { from: ticket.tier, to: tier, source: 'crm' } }
          : { kind: 'crm', visibility: 'internal', body: update.crmStatus === 'unavailable' ? 'CRM unavailable; will try again' : `CRM: ${update.because}`, data: { crmStatus: update.crmStatus } },
        notice: '',
      };
    });
  }

  async get(actor: Actor, id: number): Promise<Result<Ticket>> {
    const ticket = await findTicket(this.db, id);
    const refused = ticketRefusal(callerOf(actor), 'view', id, ticket);
    if (refused || !ticket) return { ok: false, reason: refused ?? noSuchTicket(id), denied: true };
    return { ok: true, value: ticket, notice: '' };
  }

  /** The ticket's timeline as `view` may see it (internal entries only in the agent view). */
  async history(actor: Actor, id: number, view: Audience = isAgent(actor.role) ? 'agent' : 'requester'): Promise<Result<{ ticket: Ticket; entries: TimelineEntry[]; people: Map<number, Person> }>> {
    const found = await this.get(actor, id);
    if (!found.ok) return found;
    const entries = await listTimeline(this.db, id, { includeInternal: view === 'agent' && isAgent(actor.role), limit: 30 });
    const people = await findPeople(this.db, entries.flatMap((e) => (e.authorId === null ? [] : [e.authorId])));
    return { ok: true, value: { ticket: found.value, entries, people }, notice: '' };
  }

  async list(actor: Actor, kind: ListKind, context: { teamId: string | null }, after?: ListCursor): Promise<Result<TicketPage>> {
    const agent = isAgent(actor.role);
    if (actor.role === 'outsider') return { ok: false, reason: refusal('outsider', 'view')! };
    if (!agent && (kind === 'unassigned' || kind === 'team' || kind === 'breaching')) return { ok: false, reason: refusal(actor.role, 'list-all')! };
    let tickets: Ticket[];
    const page = { limit: PAGE_SIZE + 1, ...(after ? { after } : {}) };
    switch (kind) {
      case 'mine':
        tickets = await listTickets(this.db, agent ? { assigneeId: actor.person.id, openOnly: true } : { requesterId: actor.person.id, openOnly: false }, page);
        break;
      case 'open':
        tickets = await listTickets(this.db, agent ? { openOnly: true } : { requesterId: actor.person.id, openOnly: true }, page);
        break;
      case 'unassigned':
        tickets = await listTickets(this.db, { assigneeId: null, openOnly: true }, page);
        break;
      case 'team': {
        const teamIds = context.teamId ? [context.teamId] : await teamsOfPerson(this.db, actor.person.id);
        tickets = await listTickets(this.db, { teamIds, openOnly: true }, page);
        break;
      }
      case 'breaching':
        // Soonest due first, breached ones at the top; one page, as the list is short by nature.
        tickets = (await listBreaching(this.db, this.now() + BREACHING_HORIZON_MS, PAGE_SIZE)).slice(0, PAGE_SIZE);
        break;
    }
    const shown = tickets.slice(0, PAGE_SIZE);
    const last = shown[shown.length - 1];
    const people = await findPeople(this.db, shown.flatMap((t) => [t.requesterId, ...(t.assigneeId === null ? [] : [t.assigneeId])]));
    return { ok: true, value: { tickets: shown, people, next: tickets.length > PAGE_SIZE && last ? { updatedAt: last.updatedAt, id: last.id } : undefined }, notice: '' };
  }

  /**
   * Records a ticket card a turn just posted (e.g. the answer to `show`), so later changes update it in
   * place. Copies are written in batches (one transaction per batch rather than per card, which on a
   * busy desk is most of what a `show` costs); if the ticket moved on while a card was on its way, that
   * copy gets one more update. Losing a batch in a crash only means those copies stop updating.
   */
  recordCardCopy(copy: CardCopy): void {
    this.pendingCopies.push(copy);
    this.copiesFlush ??= new Promise<void>((resolve) => setTimeout(resolve, COPY_BATCH_MS)).then(() => this.writeCopies());
  }

  /** Writes card copies still waiting for their batch (before shutdown). */
  async flush(): Promise<void> {
    await this.copiesFlush;
  }

  private async writeCopies(): Promise<void> {
    // Rows are locked in one order (ticket, conversation), whoever writes them: on Postgres two
    // transactions taking the same rows in opposite orders deadlock, and the loser waits a second first.
    const copies = this.pendingCopies.splice(0).sort((a, b) => a.ticketId - b.ticketId || a.conversationRefId - b.conversationRefId);
    this.copiesFlush = undefined;
    if (copies.length === 0) return;
    const now = this.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const queued = await this.db.transaction().execute(async (tx) => {
          const versions = new Map(
            (await tx.selectFrom('tickets').select(['id', 'version']).where('id', 'in', [...new Set(copies.map((c) => c.ticketId))]).execute()).map((r) => [r.id, r.version]),
          );
          let queued = false;
          for (const copy of copies) {
            // Kind "show": a card someone asked for does not take over from the card posted with the
            // ticket (in a channel, that one is the root of the ticket's thread).
            const postId = await recordCardPost(tx, { ticketId: copy.ticketId, conversationRefId: copy.conversationRefId, activityId: copy.activityId, kind: 'show' }, now);
            const current = versions.get(copy.ticketId);
            if (postId === undefined || current === undefined || current <= copy.renderedVersion) continue;
            await enqueueCardUpdate(tx, { postId, conversationRefId: copy.conversationRefId, activityId: copy.activityId, ticketId: copy.ticketId, cardKind: 'show', version: current }, now);
            queued = true;
          }
          return queued;
        });
        if (queued) this.deps.onEnqueued?.();
        return;
      } catch (error) {
        // A deadlock with another writer (Postgres picks a victim): the batch is safe to write again.
        if ((error as { code?: string }).code === '40P01' && attempt < 3) continue;
        this.deps.onError?.(error, 'could not record posted ticket cards; they will not update in place');
        return;
      }
    }
  }

  /** The ticket's SLA clocks after a change: retargeted, paused, resumed or stopped as the change implies. */
  private slaAfter(ticket: Ticket, changes: TicketChanges, now: number): SlaColumns | undefined {
    if (!ticket.slaClocks) return undefined;
    const policy = this.deps.sla;
    const subject = { priority: changes.priority ?? ticket.priority, tier: changes.tier ?? ticket.tier, teamId: ticket.teamId };
    const calendar = calendarFor(policy, subject);
    let clocks = ticket.slaClocks;
    if (subject.priority !== ticket.priority || subject.tier !== ticket.tier) clocks = afterRetarget(clocks, policy, subject, now);
    if (changes.status !== undefined && changes.status !== ticket.status) clocks = afterStatusChange(clocks, ticket.status, changes.status, calendar, now);
    if (changes.firstResponseAt !== undefined) clocks = afterFirstResponse(clocks, calendar, now);
    return clocks === ticket.slaClocks ? undefined : slaColumns(policy, subject, clocks, now);
  }

  private async change(
    ctx: ChangeContext,
    id: number,
    action: TicketAction,
    apply: (tx: Db, ticket: Ticket) => Promise<Applied | Refused>,
    within?: Db,
    options: { trusted?: boolean } = {},
  ): Promise<Result<Ticket>> {
    const { actor } = ctx;
    const outcome = await inTransaction(within ?? this.db, async (tx): Promise<Result<Ticket> & { queued?: boolean; event?: string }> => {
      // On Postgres the row stays locked until commit, so a concurrent change waits and then sees ours.
      const ticket = await findTicket(tx, id, { lock: this.deps.database.dialect });
      const refused = options.trusted ? undefined : ticketRefusal(callerOf(actor), action, id, ticket);
      if (refused) return { ok: false, reason: refused, denied: true };
      if (!ticket) return { ok: false, reason: noSuchTicket(id) };
      const applied = await apply(tx, ticket);
      if (!applied.ok) return { ok: false, reason: applied.reason, ticket };

      const now = this.now();
      const sla = this.slaAfter(ticket, applied.changes, now);
      const updated = await updateTicket(tx, ticket, { ...applied.changes, ...(sla ? { sla } : {}) }, now);
      if (!updated) return { ok: false, reason: `${ticket.reference} was changed by someone else at the same moment; try again`, ticket };
      const authorId = actor === SYSTEM_ACTOR ? null : actor.person.id;
      await addTimelineEntry(tx, { ticketId: id, at: now, authorId, ...applied.timeline });
      await addAudit(tx, { at: now, actorId: authorId, action: `ticket.${applied.timeline.kind}`, ticketId: id, surface: ctx.surface, details: applied.timeline.data ?? null });

      let queued = (await applied.after?.(tx, updated, now)) ?? false;
      for (const post of await cardPostsOfTicket(tx, id)) {
        queued = (await enqueueCardUpdate(tx, { postId: post.id, conversationRefId: post.conversationRefId, activityId: post.activityId, ticketId: id, cardKind: post.kind, version: updated.version }, now)) || queued;
      }
      const people = await findPeople(tx, (applied.notify ?? []).map((n) => n.personId));
      for (const note of applied.notify ?? []) {
        const person = people.get(note.personId);
        if (!person || person.id === actor.person.id) continue;
        const chat = await findPersonalConversation(tx, { aadObjectId: person.aadObjectId, teamsId: person.teamsId });
        if (!chat) continue;
        await enqueue(
          tx,
          [{ idempotencyKey: `ticket:${id}:v${updated.version}:${note.purpose}:conv:${chat.id}`, operation: 'send', conversationRefId: chat.id, ticketId: id, cardKind: 'ticket', activity: note.activity }],
          now,
        );
        queued = true;
      }
      return { ok: true, value: updated, notice: applied.notice, queued, event: applied.timeline.kind };
    });
    if (outcome.ok && outcome.queued && !within) this.deps.onEnqueued?.();
    if (outcome.ok && !within) this.deps.logger?.info({ ticket: outcome.value.reference, event: outcome.event, surface: ctx.surface }, 'ticket changed');
    const { queued: _queued, event: _event, ...result } = outcome;
    return result;
  }
}

export function noSuchTicket(id: number): string {
  return `there is no ticket #${id}`;
}
