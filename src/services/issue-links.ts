import { createHash } from 'node:crypto';
import {
  actionsFor,
  isOurComment,
  parseIssueRef,
  TRACKER_LABELS,
  trackerCommentText,
  type CommentDirection,
  type IssueView,
  type StatusAction,
  type StatusMap,
  type TrackerName,
} from '../domain/issue-trackers.js';
import { isAgent, ticketRefusal } from '../domain/roles.js';
import type { SlaPolicy } from '../domain/sla.js';
import { checkStatusChange, NOTE_MAX, type Ticket } from '../domain/tickets.js';
import type { Logger } from '../logger.js';
import { TrackerError, type Tracker, type TrackerEvent, type TrackerProject } from '../integrations/trackers/port.js';
import { inTransaction, type Database } from '../store/database.js';
import { addLink, findTrackedIssue, firstDelivery, forgetDelivery, isCommentWeSent, notNewer, issuesOfTicket, recordSyncedComment, removeLink, saveTrackedIssue, ticketsLinking, type TrackedIssue } from '../store/issue-links.js';
import { findTicket, type TicketChanges } from '../store/tickets.js';
import { callerOf, type Actor } from './actors.js';
import type { EventSink } from './desk-events.js';
import type { Result } from './result.js';
import { commitTicketChange, SYSTEM_ACTOR, type ChangeContext } from './ticket-change.js';
import type { TicketService } from './tickets.js';

/**
 * Engineering issues (Linear, Jira) linked to tickets. Agents link an issue by its key or URL, or create
 * one from a ticket; the issue's state then comes back (webhooks, and the poller as a safety net) to
 * every ticket linking it, each through the one write path: a timeline entry, every posted card
 * refreshed, and what the status map of the rules file asks for (set pending, tell the assignee, post a
 * public reply). Comments go tracker → internal note, and ticket → tracker when configured, never back
 * where they came from.
 */

export interface IssueTrackerSettings {
  statusMap: StatusMap;
  comments: CommentDirection;
}

export const DEFAULT_TRACKER_SETTINGS: IssueTrackerSettings = { statusMap: {}, comments: 'to-ticket' };

/** Twice the oldest delivery a tracker may send (Jira's hour; Linear's minute): older ones fail freshness anyway. */
const RECEIPTS_KEPT_MS = 2 * 60 * 60_000;

/** Linking is agent work: the same right as changing a ticket's status (requesters are refused by role). */
const LINK_ACTION = 'status' as const;

export interface IssueLinksDeps {
  database: Database;
  sla: SlaPolicy;
  trackers: ReadonlyMap<TrackerName, Tracker>;
  settings: IssueTrackerSettings;
  tickets: TicketService;
  /** Hosts of the Jira site (JIRA_BASE_URL), so its URLs are recognised besides *.atlassian.net. */
  jiraHosts: readonly string[];
  clock?: () => number;
  onEnqueued?: () => void;
  logger?: Logger;
  events?: EventSink;
}

export class IssueLinks {
  constructor(private readonly deps: IssueLinksDeps) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** What a failed tracker call says to the agent: the vendor's typed error, or (logged) an unexpected answer. */
  private failure(error: unknown): string {
    if (error instanceof TrackerError) return error.message;
    this.deps.logger?.error({ err: error }, 'unexpected failure calling an issue tracker');
    return 'its answer was not what the desk expected';
  }

  get configured(): TrackerName[] {
    return [...this.deps.trackers.keys()];
  }

  /** The tracker and key an agent named, or why it names none we can use. */
  resolve(text: string): Result<{ tracker: Tracker; key: string }> {
    const names = this.configured;
    if (names.length === 0) return { ok: false, reason: 'no issue tracker is connected (set LINEAR_API_KEY, or JIRA_BASE_URL with JIRA_EMAIL and JIRA_API_TOKEN)' };
    const ref = parseIssueRef(text, this.deps.jiraHosts);
    if (!ref) return { ok: false, reason: `"${text.slice(0, 80)}" is not an issue; give its key (ENG-123) or paste its URL` };
    const name = ref.tracker ?? (names.length === 1 ? names[0]! : undefined);
    if (!name) return { ok: false, reason: `both Linear and Jira are connected; say which, e.g. linear:${ref.key} or jira:${ref.key}, or paste the issue's URL` };
    const tracker = this.deps.trackers.get(name);
    if (!tracker) return { ok: false, reason: `${TRACKER_LABELS[name]} is not connected` };
    return { ok: true, value: { tracker, key: ref.key }, notice: '' };
  }

  /** Why `actor` may not link issues on ticket `id`, before any tracker is asked anything. */
  private async refusal(actor: Actor, id: number): Promise<string | undefined> {
    return ticketRefusal(callerOf(actor), LINK_ACTION, id, await findTicket(this.deps.database.db, id));
  }

  async link(ctx: ChangeContext, ticketId: number, issueText: string): Promise<Result<Ticket>> {
    const refused = await this.refusal(ctx.actor, ticketId);
    if (refused) return { ok: false, reason: refused, denied: true };
    const resolved = this.resolve(issueText);
    if (!resolved.ok) return resolved;
    const { tracker, key } = resolved.value;
    let issue: IssueView | undefined;
    try {
      issue = await tracker.getIssue(key);
    } catch (error) {
      return { ok: false, reason: `${TRACKER_LABELS[tracker.name]} could not be asked about ${key} just now (${this.failure(error)}); try again in a minute` };
    }
    if (!issue) return { ok: false, reason: `${TRACKER_LABELS[tracker.name]} has no issue ${key} (or the desk's account cannot see it)` };
    return this.commitLink(ctx, ticketId, issue, 'linked');
  }

  async create(ctx: ChangeContext, ticketId: number, input: { tracker: TrackerName; project: string; title: string; description: string }): Promise<Result<Ticket>> {
    const refused = await this.refusal(ctx.actor, ticketId);
    if (refused) return { ok: false, reason: refused, denied: true };
    const tracker = this.deps.trackers.get(input.tracker);
    if (!tracker) return { ok: false, reason: `${TRACKER_LABELS[input.tracker]} is not connected` };
    let issue: IssueView;
    try {
      issue = await tracker.createIssue(input);
    } catch (error) {
      return { ok: false, reason: `${TRACKER_LABELS[tracker.name]} did not create the issue: ${this.failure(error)}` };
    }
    return this.commitLink(ctx, ticketId, issue, 'created');
  }

  private async commitLink(ctx: ChangeContext, ticketId: number, issue: IssueView, how: 'linked' | 'created'): Promise<Result<Ticket>> {
    const label = `${TRACKER_LABELS[issue.tracker]} ${issue.key}`;
    // The issue as just read may be news to the tickets linking it already (it moved before its webhook
    // or poll came): they hear it first, the way a webhook would tell them, so linking one more ticket
    // never writes the new state over the old one unannounced.
    await this.issueChanged(issue);
    return commitTicketChange(this.deps, ctx, ticketId, LINK_ACTION, async (tx, ticket) => {
      const now = this.now();
      if (!(await addLink(tx, { ticketId, tracker: issue.tracker, key: issue.key, linkedBy: ctx.actor === SYSTEM_ACTOR ? null : ctx.actor.person.id }, now))) {
        return { ok: false, reason: `${ticket.reference} already links ${label}` };
      }
      // Stored only when the desk knew nothing of it: a known issue's state changes through issueChanged alone.
      if (!(await findTrackedIssue(tx, issue.tracker, issue.key))) await saveTrackedIssue(tx, issue, now);
      return {
        ok: true,
        changes: {},
        timeline: { kind: 'issue-linked', visibility: 'internal', body: `${how === 'created' ? 'Created and linked' : 'Linked'} ${label} “${issue.title}” (${issue.state}) by ${ctx.actor.person.name}`, data: { tracker: issue.tracker, key: issue.key, url: issue.url } },
        notice: `${ticket.reference} now links ${label} (${issue.state})`,
      };
    });
  }

  async unlink(ctx: ChangeContext, ticketId: number, issueText: string): Promise<Result<Ticket>> {
    const refused = await this.refusal(ctx.actor, ticketId);
    if (refused) return { ok: false, reason: refused, denied: true };
    const resolved = this.resolve(issueText);
    if (!resolved.ok) return resolved;
    const { tracker, key } = resolved.value;
    const label = `${TRACKER_LABELS[tracker.name]} ${key}`;
    return commitTicketChange(this.deps, ctx, ticketId, LINK_ACTION, async (tx, ticket) => {
      if (!(await removeLink(tx, ticketId, tracker.name, key))) return { ok: false, reason: `${ticket.reference} does not link ${label}` };
      return {
        ok: true,
        changes: {},
        timeline: { kind: 'issue-unlinked', visibility: 'internal', body: `Unlinked ${label} by ${ctx.actor.person.name}`, data: { tracker: tracker.name, key } },
        notice: `${ticket.reference} no longer links ${label}`,
      };
    });
  }

  /**
   * A tracker's webhook: refused (401) unless its signature checks out and it is fresh; then every event
   * is applied. A delivery seen before (the tracker's retry, or a signed body captured and resent under
   * a new delivery header) is answered 200 and not applied again: it is known by its delivery id and by
   * the SHA-256 of its body, the one part the signature covers. A delivery whose applying fails is
   * forgotten and answered 500, so the tracker's retry applies it rather than being refused.
   * Signatures and freshness are judged by the wall clock (the tracker's), not the desk's business clock.
   */
  async receive(name: TrackerName, raw: string, headers: Readonly<Record<string, string | string[] | undefined>>): Promise<{ status: number; body: unknown }> {
    const tracker = this.deps.trackers.get(name);
    if (!tracker) return { status: 404, body: { error: `${TRACKER_LABELS[name]} is not connected` } };
    const now = Date.now();
    const verified = tracker.verifyWebhook(raw, headers, now);
    if (!verified.ok) {
      this.deps.logger?.warn({ tracker: name, reason: verified.reason }, 'refused a tracker webhook');
      return { status: 401, body: { error: verified.reason } };
    }
    const db = this.deps.database.db;
    const keys = [verified.deliveryId, `sha256:${createHash('sha256').update(raw, 'utf8').digest('hex')}`];
    if (!(await firstDelivery(db, name, keys, now, RECEIPTS_KEPT_MS))) {
      this.deps.logger?.info({ tracker: name }, 'a tracker webhook was delivered again; not applied twice');
      return { status: 200, body: { ok: true, duplicate: true } };
    }
    try {
      await this.apply(name, verified.events);
    } catch (error) {
      this.deps.logger?.error({ tracker: name, err: error }, 'a tracker webhook could not be applied; its retry will be');
      await forgetDelivery(db, name, keys);
      return { status: 500, body: { error: 'the delivery could not be applied just now; send it again' } };
    }
    return { status: 200, body: { ok: true } };
  }

  /** The issues a ticket links, as its card shows them. */
  issuesOf(ticketId: number): Promise<TrackedIssue[]> {
    return issuesOfTicket(this.deps.database.db, ticketId);
  }

  async projects(tracker: TrackerName): Promise<TrackerProject[]> {
    return (await this.deps.trackers.get(tracker)?.projects()) ?? [];
  }

  /** What a verified webhook (or a poll) says: each event applied to every ticket linking its issue. */
  async apply(tracker: TrackerName, events: readonly TrackerEvent[]): Promise<void> {
    for (const event of events) {
      if (event.issue) await this.issueChanged({ tracker, ...event.issue });
      if (event.comment) await this.commentAdded(tracker, event.issueKey, event.comment);
    }
  }

  /**
   * The issue as the tracker has it now. Nothing happens when neither its state nor its title changed
   * (a webhook and a poll seeing the same change, a retried delivery); a new state is written to every
   * ticket linking the issue, with the actions the status map gives it.
   */
  async issueChanged(issue: IssueView): Promise<number> {
    const { database } = this.deps;
    const label = `${TRACKER_LABELS[issue.tracker]} ${issue.key}`;
    const ctx: ChangeContext = { actor: SYSTEM_ACTOR, surface: 'system' };
    // The known state and every linking ticket change in one transaction: a crash half-way leaves the
    // old state known, so the next webhook or poll applies the change again rather than never.
    const outcome = await inTransaction(database.db, async (tx) => {
      const nothing = { changed: [] as number[], actions: [] as readonly StatusAction[] };
      const before = await findTrackedIssue(tx, issue.tracker, issue.key, { lock: database.dialect });
      // Issues no ticket ever linked are not kept (a webhook speaks of every issue in the workspace).
      if (!before) return nothing;
      // An older view than the one known (a retried delivery after a newer one, a poll after its
      // webhook): applying it would write the old state back, then the newer one's actions again.
      if (notNewer(issue, before)) return nothing;
      await saveTrackedIssue(tx, issue, this.now());
      const linked = await ticketsLinking(tx, issue.tracker, issue.key);
      if (linked.length === 0 || (before.state === issue.state && before.title === issue.title)) return nothing;
      const stateChanged = before.state !== issue.state;
      const actions = stateChanged ? actionsFor(this.deps.settings.statusMap, issue.state, issue.category) : [];
      const changed: number[] = [];
      for (const id of linked) {
        const result = await commitTicketChange(
          this.deps,
          ctx,
          id,
          LINK_ACTION,
          async (_tx, ticket) => {
            const changes: TicketChanges = {};
            if (actions.some((a) => a.kind === 'pending') && ticket.status !== 'pending' && !checkStatusChange(ticket.status, 'pending')) changes.status = 'pending';
            const tellAssignee = actions.some((a) => a.kind === 'notify-assignee') && ticket.assigneeId !== null;
            return {
              ok: true,
              changes,
              // A status change is recorded as one, so rules and integrations hear ticket.status_changed.
              timeline: {
                kind: changes.status ? 'status' : 'issue-state',
                visibility: 'internal',
                body: stateChanged ? `${label} moved ${before.state} → ${issue.state}${changes.status ? '; ticket set to pending' : ''}` : `${label} renamed “${issue.title}”`,
                data: { ...(changes.status ? { from: ticket.status, to: changes.status } : {}), issue: { tracker: issue.tracker, key: issue.key, from: before.state, to: issue.state, category: issue.category } },
              },
              notice: `${label} is ${issue.state}`,
              ...(tellAssignee ? { notify: [{ personId: ticket.assigneeId!, purpose: `issue-${issue.key}`, activity: null }] } : {}),
            };
          },
          tx,
          { trusted: true },
        );
        if (result.ok) changed.push(id);
        else this.deps.logger?.warn({ ticket: id, issue: issue.key, reason: result.reason }, 'an issue change could not be written to a ticket');
      }
      return { changed, actions };
    });
    if (outcome.changed.length > 0) this.deps.onEnqueued?.();
    // A public reply is a change of its own (first response, the email thread), made after the state is
    // committed; if the process stops in between, that reply is the one thing not sent.
    for (const action of outcome.actions) {
      if (action.kind !== 'reply') continue;
      for (const id of outcome.changed) {
        const replied = await this.deps.tickets.comment(ctx, id, action.text.replaceAll('{issue}', issue.key).replaceAll('{state}', issue.state), 'public');
        if (!replied.ok) this.deps.logger?.warn({ ticket: id, issue: issue.key, reason: replied.reason }, 'the status map reply was not posted');
      }
    }
    return outcome.changed.length;
  }

  /** A comment on the issue: an internal note on every linking ticket, unless the desk wrote it. */
  async commentAdded(tracker: TrackerName, key: string, comment: { id: string; body: string; author: string }): Promise<number> {
    if (this.deps.settings.comments === 'none') return 0;
    const db = this.deps.database.db;
    if (isOurComment(comment.body) || (await isCommentWeSent(db, tracker, comment.id))) return 0;
    const label = `${TRACKER_LABELS[tracker]} ${key}`;
    const body = `${comment.author} on ${label}: ${comment.body.trim()}`.slice(0, NOTE_MAX);
    let written = 0;
    for (const id of await ticketsLinking(db, tracker, key)) {
      const result = await inTransaction(db, async (tx) => {
        // Recorded with the note it becomes: a comment delivered twice is noted once.
        if (!(await recordSyncedComment(tx, { tracker, commentId: comment.id, ticketId: id, direction: 'to-ticket' }, this.now()))) return undefined;
        return commitTicketChange(
          this.deps,
          { actor: SYSTEM_ACTOR, surface: 'system' },
          id,
          'note',
          async () => ({ ok: true, changes: {}, timeline: { kind: 'note', visibility: 'internal', body, data: { tracker, key, commentId: comment.id } }, notice: '' }),
          tx,
          { trusted: true },
        );
      });
      if (result?.ok) written++;
    }
    if (written > 0) this.deps.onEnqueued?.();
    return written;
  }

  /**
   * An agent's note or reply on a ticket, after it is committed: with `comments: both`, posted on each
   * linked issue, tagged as ours and recorded by the id the tracker gave it, so its webhook is not
   * noted back on the ticket. Failures are logged, never lose the ticket's own change. A requester's
   * reply stays on the ticket: engineering hears the customer through an agent (README, Issue trackers).
   */
  async ticketCommented(actor: Actor, ticket: Pick<Ticket, 'id' | 'reference'>, text: string): Promise<void> {
    if (this.deps.settings.comments !== 'both' || actor === SYSTEM_ACTOR || !isAgent(actor.role)) return;
    for (const issue of await this.issuesOf(ticket.id)) {
      const tracker = this.deps.trackers.get(issue.tracker);
      if (!tracker) continue;
      try {
        const posted = await tracker.addComment(issue.key, trackerCommentText(ticket.reference, actor.person.name, text));
        await recordSyncedComment(this.deps.database.db, { tracker: issue.tracker, commentId: posted.id, ticketId: ticket.id, direction: 'to-tracker' }, this.now());
      } catch (error) {
        this.deps.logger?.warn({ ticket: ticket.reference, issue: issue.key, err: (error as Error).message }, 'could not post the comment to the tracker');
      }
    }
  }
}
