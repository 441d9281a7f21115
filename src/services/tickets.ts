import { markBounced } from '../store/mail-participants.js';
import { isAgent, type TicketAction } from '../domain/roles.js';
import type { SlaPolicy } from '../domain/sla.js';
import { checkStatusChange, NOTE_MAX, PRIORITY_LABELS, STATUS_LABELS, type CrmStatus, type Priority, type StatusChange, type Ticket } from '../domain/tickets.js';
import type { Logger } from '../logger.js';
import type { Database, Db } from '../store/database.js';
import { findPerson, type Person } from '../store/people.js';
import type { TicketChanges } from '../store/tickets.js';
import type { Visibility } from '../store/timeline.js';
import type { Actor } from './actors.js';
import { commitTicketChange, SYSTEM_ACTOR, type Applied, type ChangeContext, type Refused } from './ticket-change.js';
import type { EventSink } from './desk-events.js';
import type { Result } from './result.js';
import { openTicket, type CrmAtCreation, type NewTicketInput } from './ticket-opening.js';

/**
 * The ticket use cases: opening a ticket and every change to one, whatever surface it came from (typed
 * command, card button, email, CRM). Each says what the change is and when it is refused; how it is
 * committed (rights, versioning, SLA recompute, timeline, audit, card updates and notifications, in one
 * transaction) is ticket-change.ts. Reading tickets is ticket-queries.ts.
 */

/**
 * Where a public reply by an agent also has to go besides Teams: the email thread of a ticket that came
 * by email. Called inside the change's transaction, so the reply and the mail queued for it commit together.
 */
export interface ReplyChannel {
  queueReply(tx: Db, ticket: Ticket, reply: { body: string; authorId: number; version: number }, now: number): Promise<boolean>;
}

export class TicketService {
  constructor(
    private readonly deps: {
      database: Database;
      /** The SLA policy: targets, calendars, warning thresholds. */
      sla: SlaPolicy;
      clock?: () => number;
      /** Called after a commit that queued outbox rows, so the worker looks at once. */
      onEnqueued?: () => void;
      /** Email replies for tickets that came by email. */
      replies?: ReplyChannel;
      /** CRM facts (tier) for new tickets, from the enrichment cache. */
      crm?: CrmAtCreation;
      /** One line per committed change: the ticket, what happened, from where (never its text). */
      logger?: Logger;
      /** The most urgent priority a requester may give a new ticket (REQUESTER_MAX_PRIORITY); P2 by default. */
      requesterMaxPriority?: Priority;
      /** Where each change's desk event goes (notification rules). */
      events?: EventSink;
      /** After a new ticket is committed (the assistant's triage); must not throw or block. */
      onCreated?: (ticket: Ticket) => void;
    },
  ) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** Opens a ticket; inside `within` (the caller's transaction, e.g. email intake) when given. */
  async create(ctx: ChangeContext, input: NewTicketInput, within?: Db): Promise<Result<Ticket>> {
    const created = await openTicket(this.deps, ctx, input, within);
    // Committed (not inside someone else's transaction): background work on new tickets may start.
    if (created.ok && !within) this.deps.onCreated?.(created.value);
    return created;
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

  /**
   * Our mail on a ticket could not be delivered (a bounce intake matched to it): each address is
   * flagged on the ticket's mail thread, so the card and the next reply say so, the timeline says
   * "could not deliver to X: reason", and the assignee is told in their personal chat.
   */
  deliveryFailed(id: number, failures: ReadonlyArray<{ address: string; reason: string }>, origin: Record<string, unknown>, within: Db): Promise<Result<Ticket>> {
    return this.change(
      { actor: SYSTEM_ACTOR, surface: 'email' },
      id,
      'comment',
      async (tx, ticket) => {
        const now = this.now();
        for (const f of failures) await markBounced(tx, ticket.id, f.address, f.reason, now);
        const lines = failures.length > 0 ? failures.map((f) => `Could not deliver to ${f.address}: ${f.reason}`) : ['Our email on this ticket bounced (the report named no recipient)'];
        return {
          ok: true,
          changes: {},
          timeline: { kind: 'email-bounced', visibility: 'internal', body: lines.join('\n'), data: { email: origin, failures } },
          notice: `${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ''} · ${ticket.reference}`,
          notify: ticket.assigneeId !== null ? [{ personId: ticket.assigneeId, purpose: 'bounce', activity: null }] : [],
        };
      },
      within,
      { trusted: true },
    );
  }

  /**
   * Files were kept on a ticket after the change that brought them (they are fetched once the message's
   * change is committed): the timeline says so, and every posted copy of the card is updated to list them.
   */
  filesAdded(id: number, files: { names: readonly string[]; visibility: Visibility }): Promise<Result<Ticket>> {
    return this.change(
      { actor: SYSTEM_ACTOR, surface: 'chat' },
      id,
      'comment',
      async (_tx, ticket) => ({
        ok: true,
        changes: {},
        timeline: { kind: 'files', visibility: files.visibility, body: `${files.names.length === 1 ? 'File' : 'Files'} kept: ${files.names.join(', ')}`.slice(0, NOTE_MAX), data: { files: files.names } },
        notice: `Files kept on ${ticket.reference}`,
      }),
      undefined,
      { trusted: true },
    );
  }

  /**
   * Malware-scan verdicts on some of a ticket's files (src/services/attachments/scanning.ts): its
   * timeline says so and its cards are refreshed, so "scanning…" becomes the verdict. A file held back
   * is said where the requester sees it too (they may be waiting for it); clean scans are internal.
   */
  filesScanned(id: number, results: ReadonlyArray<{ name: string; state: 'clean' | 'infected' | 'failed'; verdict: string | null }>): Promise<Result<Ticket>> {
    const said = results.map((r) => (r.state === 'clean' ? `${r.name}: no malware found` : r.state === 'infected' ? `${r.name}: malware found (${r.verdict ?? 'unnamed'}); held back` : `${r.name}: could not be scanned; held back`));
    const heldBack = results.some((r) => r.state !== 'clean');
    return this.change(
      { actor: SYSTEM_ACTOR, surface: 'chat' },
      id,
      'comment',
      async (_tx, ticket) => ({
        ok: true,
        changes: {},
        timeline: { kind: 'files-scanned', visibility: heldBack ? 'public' : 'internal', body: `Malware scan: ${said.join('; ')}`.slice(0, NOTE_MAX), data: { files: results.map((r) => ({ name: r.name, state: r.state, verdict: r.verdict })) } },
        notice: `Files scanned on ${ticket.reference}`,
      }),
      undefined,
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

  /**
   * The HubSpot ticket that mirrors this one (HUBSPOT_TICKET_SYNC), remembered so later changes update
   * it rather than open another. A change like any other: versioned, on the timeline and audited.
   */
  linkCrmTicket(id: number, crmTicketId: string): Promise<Result<Ticket>> {
    return this.change({ actor: SYSTEM_ACTOR, surface: 'system' }, id, 'priority', async (_tx, ticket) => {
      if (ticket.crmTicketId === crmTicketId) return { ok: false, reason: 'nothing to change' };
      return {
        ok: true,
        changes: { crmTicketId },
        timeline: { kind: 'crm-ticket', visibility: 'internal', body: `Mirrored to HubSpot as ticket ${crmTicketId}`, data: { crmTicketId } },
        notice: '',
      };
    });
  }

  /**
   * The AI assistant's triage of a ticket (src/services/assistant.ts): `suggested` by the desk itself
   * (an internal line, and every card of the ticket refreshed to show the suggestion), `accepted` by an
   * agent (its type, priority and team applied, with the right to change priority) or `dismissed`.
   * `decide` marks the suggestion in the same transaction; false (someone decided first) refuses.
   */
  assistantTriage(
    ctx: ChangeContext,
    id: number,
    step: { step: 'suggested' | 'accepted' | 'dismissed'; body: string; changes?: Pick<TicketChanges, 'type' | 'priority' | 'teamId'>; decide?: (tx: Db) => Promise<boolean> },
  ): Promise<Result<Ticket>> {
    return this.change(
      ctx,
      id,
      'priority',
      async (tx, ticket) => {
        if (step.decide && !(await step.decide(tx))) return { ok: false, reason: `the assistant's triage of ${ticket.reference} was already accepted or dismissed` };
        const changes: TicketChanges = {};
        if (step.changes?.type && step.changes.type !== ticket.type) changes.type = step.changes.type;
        if (step.changes?.priority && step.changes.priority !== ticket.priority) changes.priority = step.changes.priority;
        if (step.changes?.teamId !== undefined && step.changes.teamId !== ticket.teamId) changes.teamId = step.changes.teamId;
        return {
          ok: true,
          changes,
          // A new priority is a priority change to the rules (a P1 pages whoever a P1 pages), whoever suggested it.
          timeline: changes.priority
            ? { kind: 'priority', visibility: 'internal', body: step.body.slice(0, NOTE_MAX), data: { from: ticket.priority, to: changes.priority, assistant: step.step } }
            : { kind: `assistant-triage-${step.step}`, visibility: 'internal', body: step.body.slice(0, NOTE_MAX), data: { step: step.step } },
          notice: step.step === 'accepted' ? `Triage applied to ${ticket.reference}` : step.step === 'dismissed' ? `Triage suggestion dismissed on ${ticket.reference}` : '',
        };
      },
      undefined,
      { trusted: step.step === 'suggested' },
    );
  }

  private change(
    ctx: ChangeContext,
    id: number,
    action: TicketAction,
    apply: (tx: Db, ticket: Ticket) => Promise<Applied | Refused>,
    within?: Db,
    options: { trusted?: boolean } = {},
  ): Promise<Result<Ticket>> {
    return commitTicketChange(this.deps, ctx, id, action, apply, within, options);
  }
}
