import { cardMessage, type AdaptiveCard } from '../cards/adaptive-card.js';
import { confirmationCard } from '../cards/confirmation-card.js';
import { helpCard } from '../cards/help-card.js';
import { historyCard } from '../cards/history-card.js';
import { LIST_TITLES, listCard } from '../cards/list-card.js';
import { newTicketPromptCard } from '../cards/dialog-cards.js';
import { ticketCard, ticketSummary } from '../cards/ticket-card.js';
import type { Command, ListKind, SetupKind } from '../domain/commands.js';
import { formatQuietHours, parseQuietHours } from '../domain/quiet-hours.js';
import { isAgent, ticketRefusal, type TicketAction } from '../domain/roles.js';
import { crmCard } from '../cards/crm-card.js';
import { statusCard } from '../cards/status-card.js';
import { reportCard } from '../cards/report-card.js';
import type { ReportService } from '../services/reports.js';
import type { HealthReport } from '../services/health.js';
import { subjectFrom, type Priority, type StatusChange, type Ticket } from '../domain/tickets.js';
import type { TicketType } from '../domain/ticket-reference.js';
import type { AccessPolicy, ConversationSeen } from '../services/access.js';
import { callerOf, type Actor, type ActorDirectory, type Person, type PersonSeen } from '../services/actors.js';
import type { CrmFacts } from '../services/crm.js';
import type { EscalationService } from '../services/escalations.js';
import type { ReminderService } from '../services/reminders.js';
import type { SetupService } from '../services/setup.js';
import { authorName, type TicketCards } from '../services/ticket-cards.js';
import type { Result } from '../services/result.js';
import type { ListCursor, TicketQueries } from '../services/ticket-queries.js';
import type { TicketService } from '../services/tickets.js';
import { sharedCardViews, type TicketFiles } from '../services/attachments/ticket-files.js';
import { commandsFor } from './command-help.js';
import type { Where } from './turn.js';
import { integrationsCard } from '../cards/integrations-card.js';
import type { IntegrationDirectory } from '../services/integrations.js';
import type { IssueLinks } from '../services/issue-links.js';
import type { Visibility } from '../store/timeline.js';

/**
 * Carries out a command for an actor: the one place where typed commands and card buttons meet the
 * ticket service, so both are checked and recorded the same way. Returns what to show; the caller
 * decides whether that is a reply (typed command, Action.Submit) or an invoke response (Action.Execute).
 */

export type Reply =
  | { kind: 'card'; card: AdaptiveCard; summary: string; ticketCard?: { ticketId: number; version: number }; tone?: 'good' | 'warning'; ticketId?: number }
  | { kind: 'none' };

export interface TurnHelpers {
  /** Resolves "@Megan", "megan" or "me" to an agent, or says why not. */
  resolveAssignee(text: string): Promise<{ ok: true; person: Person } | { ok: false; reason: string }>;
  /** Members of the current team (for `setup support team`). */
  teamMembers(): Promise<PersonSeen[]>;
  /** The stored reference id of the channel mapped to a role, when one is. */
  channelFor(role: 'triage' | 'critical'): Promise<number | undefined>;
}

export interface RunnerDeps {
  /** Who may do what, and what each conversation may see. */
  access: AccessPolicy;
  tickets: TicketService;
  queries: TicketQueries;
  cards: TicketCards;
  setup: SetupService;
  escalations: EscalationService;
  reminders: ReminderService;
  actors: ActorDirectory;
  clock: () => number;
  /** HubSpot, when configured (for `whois`). */
  crm?: { whois(email: string): Promise<{ facts: CrmFacts; fromCache: boolean }> };
  /** Integration health, for `status` (admins). */
  health?: { report(options?: { fresh?: boolean }): Promise<HealthReport> };
  /** The integrations and notification rules, for `integrations` (admins). */
  integrations?: Pick<IntegrationDirectory, 'overview' | 'test'>;
  /** SLA attainment and the open-ticket trend, for `report` (agents). */
  reports: ReportService;
  defaultTier?: string;
  /** A ticket's files, for its history. */
  files?: Pick<TicketFiles, 'list'>;
  /** Linked Linear/Jira issues, when a tracker is connected. */
  issues?: Pick<IssueLinks, 'link' | 'unlink' | 'create' | 'ticketCommented' | 'configured' | 'projects'>;
}

export class CommandRunner {
  constructor(private readonly deps: RunnerDeps) {}

  /** Linked Linear/Jira issues, when a tracker is connected (the Create issue dialog uses them). */
  get issues(): RunnerDeps['issues'] {
    return this.deps.issues;
  }

  async run(actor: Actor, command: Command, where: Where, helpers: TurnHelpers, surface: 'chat' | 'card' = 'chat'): Promise<Reply> {
    const ctx = { actor, surface };
    const ref = 'ref' in command ? (command.ref ?? where.threadTicketId) : undefined;
    const needsRef = 'ref' in command;
    if (needsRef && ref === undefined) {
      return warn(`Which ticket? Add its reference, e.g. “${command.kind} INC-1042”.`);
    }
    switch (command.kind) {
      case 'help': {
        const card = helpCard(commandsFor(actor, where), where.kind);
        return { kind: 'card', card, summary: 'What Service Desk can do' };
      }
      case 'new':
        // The form opens in a dialog (handlers/dialogs.ts), where the details get a real text area.
        if (!command.text) return { kind: 'card', card: newTicketPromptCard(), summary: 'New ticket' };
        return this.create(actor, where, helpers, { subject: subjectFrom(command.text), description: command.text.length > subjectFrom(command.text).length ? command.text : '', priority: 'P3', type: 'incident' }, surface);
      case 'list':
        return this.list(actor, command.list, where, undefined, 1);
      case 'show':
        return this.show(actor, ref!, where);
      case 'history':
        return this.history(actor, ref!, where);
      case 'take':
        return this.outcome(await this.deps.tickets.take(ctx, ref!));
      case 'assign': {
        const assignee = await helpers.resolveAssignee(command.assignee);
        if (!assignee.ok) return warn(assignee.reason);
        return this.outcome(await this.deps.tickets.assign(ctx, ref!, assignee.person));
      }
      case 'unassign':
        return this.outcome(await this.deps.tickets.unassign(ctx, ref!));
      case 'priority':
        return this.outcome(await this.deps.tickets.setPriority(ctx, ref!, command.priority));
      case 'pending':
        return this.outcome(await this.deps.tickets.changeStatus(ctx, ref!, 'pending'));
      case 'hold':
        return this.outcome(await this.deps.tickets.changeStatus(ctx, ref!, 'on_hold'));
      case 'close':
        return this.outcome(await this.deps.tickets.changeStatus(ctx, ref!, 'closed'));
      case 'resolve':
        return this.outcome(await this.deps.tickets.changeStatus(ctx, ref!, 'resolved', command.note));
      case 'reopen':
        return this.outcome(await this.deps.tickets.changeStatus(ctx, ref!, 'open', command.note));
      case 'quiet': {
        const refused = this.deps.access.deskRefusal(actor, 'quiet-hours');
        if (refused) return warn(capitalize(refused) + '.');
        if (!command.range) {
          return good(actor.person.quiet ? `Your quiet hours are ${formatQuietHours(actor.person.quiet)} (${actor.person.timeZone ?? 'UTC'}); “quiet off” turns them off.` : 'You have no quiet hours; set them with e.g. “quiet 19:00-08:00”.');
        }
        const parsed = parseQuietHours(command.range);
        if (!parsed.ok) return warn(capitalize(parsed.error));
        const set = await this.deps.actors.setQuietHours(actor, parsed.quiet, surface);
        if (!set.ok) return warn(capitalize(set.reason));
        return good(parsed.quiet ? `Quiet hours set to ${formatQuietHours(parsed.quiet)} (${actor.person.timeZone ?? 'UTC'}): warnings on anything but P1 wait until they end.` : 'Quiet hours are off.');
      }
      case 'remind': {
        const result = await this.deps.reminders.create(actor, ref!, command.when);
        return result.ok ? good(result.notice) : warn(capitalize(result.reason));
      }
      case 'escalate': {
        const result = await this.deps.escalations.start(ref!, { trigger: 'manual', actor, reason: command.note ?? null });
        return result.ok ? good(result.notice) : warn(capitalize(result.reason));
      }
      case 'note':
        return this.outcome(await this.comment(ctx, ref!, command.text, 'internal'));
      case 'reply':
        return this.outcome(await this.comment(ctx, ref!, command.text, 'public'));
      case 'link':
      case 'unlink': {
        if (!this.deps.issues) return warn('No issue tracker is connected (set LINEAR_API_KEY, or JIRA_BASE_URL with JIRA_EMAIL and JIRA_API_TOKEN).');
        return this.outcome(command.kind === 'link' ? await this.deps.issues.link(ctx, ref!, command.issue) : await this.deps.issues.unlink(ctx, ref!, command.issue));
      }
      case 'issues': {
        const found = await this.ticketFor(actor, ref!, 'status');
        if (!found.ok) return warn(capitalize(found.reason));
        // The ticket's card lists its linked issues with their state and links.
        return this.show(actor, ref!, where);
      }
      case 'setup':
        return this.setup(actor, command.what, where, helpers);
      case 'tier':
        return this.outcome(await this.deps.tickets.setTier(ctx, ref!, command.tier, command.reason));
      case 'whois': {
        const refused = this.deps.access.deskRefusal(actor, 'whois') ?? (await this.agentContentRefusal(actor, where));
        if (refused) return warn(capitalize(refused) + '.');
        return this.whois(command.email);
      }
      case 'status': {
        const refused = this.deps.access.deskRefusal(actor, 'status') ?? (await this.agentContentRefusal(actor, where));
        if (refused) return warn(capitalize(refused) + '.');
        if (!this.deps.health) return warn('Health checks are not available here.');
        const report = await this.deps.health.report({ fresh: true });
        return { kind: 'card', card: statusCard(report), summary: report.ready ? 'Service Desk is ready' : 'Service Desk is not ready' };
      }
      case 'integrations': {
        const refused = this.deps.access.deskRefusal(actor, 'integrations') ?? (await this.agentContentRefusal(actor, where));
        if (refused) return warn(capitalize(refused) + '.');
        if (!this.deps.integrations) return warn('Integrations are not available here.');
        if (command.test) {
          const tested = await this.deps.integrations.test(actor, command.test);
          return tested.ok ? good(tested.value) : warn(capitalize(tested.reason));
        }
        const overview = await this.deps.integrations.overview(actor);
        if (!overview.ok) return warn(capitalize(overview.reason) + '.');
        return { kind: 'card', card: integrationsCard(overview.value), summary: `${overview.value.integrations.length} integration(s), ${overview.value.rules.length} rule(s)` };
      }
      case 'report': {
        const refused = this.deps.access.deskRefusal(actor, 'report') ?? (await this.agentContentRefusal(actor, where));
        if (refused) return warn(capitalize(refused) + '.');
        const data = await this.deps.reports.build({
          ...(actor.person.timeZone ? { timeZone: actor.person.timeZone } : {}),
          ...(command.mine ? { assigneeId: actor.person.id, scope: 'your tickets' } : { scope: 'the team' }),
        });
        const card = reportCard(data);
        return { kind: 'card', card, summary: card.fallbackText };
      }
    }
  }

  /**
   * Agent-only content (reports, CRM facts, integration health, other people's tickets) is shown only
   * where everyone present may read it; says why not, or undefined.
   */
  private async agentContentRefusal(actor: Actor, where: Where): Promise<string | undefined> {
    if ((await this.deps.access.viewFor(actor, conversationOf(actor, where))) === 'agent') return undefined;
    return isAgent(actor.role) ? 'not everyone in this conversation is an agent, so I show that only in your chat with me or in a support channel' : undefined;
  }

  private async whois(email: string): Promise<Reply> {
    if (!this.deps.crm) return warn('HubSpot is not connected (set HUBSPOT_ACCESS_TOKEN).');
    let found: { facts: CrmFacts; fromCache: boolean };
    try {
      found = await this.deps.crm.whois(email);
    } catch (error) {
      return warn(`HubSpot could not be asked just now (${error instanceof Error ? error.message.split('\n')[0] : 'unknown error'}); try again in a minute.`);
    }
    const { facts, fromCache } = found;
    const previousTickets = await this.deps.queries.ticketCountOf(email);
    const card = crmCard({ ...facts, tier: facts.tier ?? this.deps.defaultTier ?? 'standard', previousTickets, fromCache });
    return { kind: 'card', card, summary: `CRM: ${facts.contactName ?? email}` };
  }

  async create(
    actor: Actor,
    where: Where,
    helpers: TurnHelpers,
    input: { subject: string; description: string; priority: Priority; type: TicketType },
    surface: 'chat' | 'card',
  ): Promise<Reply> {
    // In a channel the card starts its own thread there; from a personal chat it comes back to the
    // requester and goes to the triage channel, when one is mapped.
    const triage = where.kind === 'personal' ? await helpers.channelFor('triage') : undefined;
    // A P1 also goes to the channel mapped as critical, from the moment it exists.
    const critical = input.priority === 'P1' ? await helpers.channelFor('critical') : undefined;
    const postTo = [where.conversationRefId, triage].filter((id): id is number => id !== undefined);
    const result = await this.deps.tickets.create(
      { actor, surface },
      { ...input, teamId: where.kind === 'channel' ? where.teamId : null, source: where.kind === 'personal' ? 'chat' : 'channel', postTo, ...(critical !== undefined ? { criticalChannel: critical } : {}) },
    );
    if (!result.ok) return warn(`Nothing was created: ${result.reason}.`);
    const where_ = where.kind === 'personal' ? 'Its card follows; I will keep it up to date.' : 'Its card starts a new thread in this channel.';
    return { kind: 'card', card: confirmationCard(`${result.notice}. ${where_}`), summary: `Created ${result.value.reference}`, ticketId: result.value.id };
  }

  async list(actor: Actor, kind: ListKind, where: Where, after: ListCursor | undefined, page: number): Promise<Reply> {
    // An agent's lists name other people's tickets; a requester's list is only their own.
    const refused = await this.agentContentRefusal(actor, where);
    if (refused) return warn(capitalize(refused) + '.');
    const result = await this.deps.queries.list(actor, kind, { teamId: where.teamId }, after);
    if (!result.ok) return warn(capitalize(result.reason));
    const names = new Map([...result.value.people].map(([id, p]) => [id, p.name]));
    const more = result.value.next ? { list: kind, after: result.value.next, page: page + 1, ...(where.teamId ? { teamId: where.teamId } : {}) } : undefined;
    const card = listCard({ kind, tickets: result.value.tickets, names, page, more, now: this.deps.clock() });
    return { kind: 'card', card, summary: LIST_TITLES[kind] };
  }

  async show(actor: Actor, id: number, where: Where, notice?: { text: string; tone: 'good' | 'warning' }): Promise<Reply> {
    const found = await this.deps.queries.get(actor, id);
    if (!found.ok) return warn(capitalize(found.reason));
    const data = await this.deps.cards.data(id, await this.deps.access.viewFor(actor, conversationOf(actor, where)), notice, found.value);
    if (!data) return warn(`There is no ticket #${id}.`);
    return { kind: 'card', card: ticketCard(data), summary: ticketSummary(data), ticketCard: { ticketId: id, version: data.ticket.version } };
  }

  async history(actor: Actor, id: number, where: Where): Promise<Reply> {
    const result = await this.deps.queries.history(actor, id, await this.deps.access.viewFor(actor, conversationOf(actor, where)));
    if (!result.ok) return warn(capitalize(result.reason));
    const { ticket, entries, people } = result.value;
    // The ticket's files (email attachments and files from Teams), as this conversation may see them.
    const files = this.deps.files ? await this.deps.files.list(actor, id, await this.deps.access.viewFor(actor, conversationOf(actor, where))) : undefined;
    const card = historyCard(
      ticket,
      entries.map((e) => ({ at: e.at, kind: e.kind, visibility: e.visibility, authorName: authorName(e, people), body: e.body })),
      files?.ok ? sharedCardViews(files.value.attachments) : [],
    );
    return { kind: 'card', card, summary: `History of ${ticket.reference}` };
  }

  /**
   * The ticket, when `actor` may see it and may do `action` on it; otherwise why not. A dialog asks
   * before it opens, so nobody types a note the desk would refuse; the change itself is checked again
   * by the ticket service when it is made.
   */
  async ticketFor(actor: Actor, id: number, action: TicketAction): Promise<Result<Ticket>> {
    const found = await this.deps.queries.get(actor, id);
    if (!found.ok) return found;
    const refused = ticketRefusal(callerOf(actor), action, id, found.value);
    return refused ? { ok: false, reason: refused, denied: true } : found;
  }

  /**
   * A note or reply, then (when comments go both ways) the same text on the ticket's linked issues:
   * after the change is committed, so a tracker that is down never loses the ticket's own change.
   */
  async comment(ctx: { actor: Actor; surface: 'chat' | 'card' }, id: number, text: string, visibility: Visibility): Promise<Result<Ticket>> {
    const result = await this.deps.tickets.comment(ctx, id, text, visibility);
    if (result.ok) await this.deps.issues?.ticketCommented(ctx.actor, result.value, text.trim());
    return result;
  }

  /** A status change from the card's Status picker (its values are checked by the caller). */
  async setStatus(actor: Actor, id: number, status: StatusChange, note: string | undefined): Promise<Reply> {
    return this.outcome(await this.deps.tickets.changeStatus({ actor, surface: 'card' }, id, status, note));
  }

  private async setup(actor: Actor, what: SetupKind, where: Where, helpers: TurnHelpers): Promise<Reply> {
    if (where.kind !== 'channel') return warn(`Type “setup ${what === 'support-team' ? 'support team' : what}” in a team channel, mentioning me.`);
    if (what !== 'support-team') {
      const result = await this.deps.setup.mapChannel(actor, what, { conversationRefId: where.conversationRefId, teamId: where.teamId });
      return result.ok ? good(result.notice) : warn(capitalize(result.reason));
    }
    const refused = this.deps.access.deskRefusal(actor, 'setup');
    if (refused) return warn(capitalize(refused) + '.');
    const members = await helpers.teamMembers();
    const result = await this.deps.setup.registerSupportTeam(actor, { teamId: where.teamId ?? '', name: where.teamName, members });
    if (!result.ok) return warn(capitalize(result.reason));
    // Who is an agent just changed: drop what was memoized about roles and the Assign picker.
    this.deps.actors.clear();
    this.deps.cards.clear();
    return good(result.notice);
  }

  private outcome(result: Result<{ reference: string; id?: number }>): Reply {
    // The ticket's id rides along, so files sent with the command can be kept on it.
    return result.ok ? { ...good(result.notice), ...(result.value.id !== undefined ? { ticketId: result.value.id } : {}) } : warn(capitalize(result.reason));
  }
}

/** The conversation a turn happens in, as the access layer sees it; in a personal chat the caller is who it is with. */
export function conversationOf(actor: Actor, where: Where): ConversationSeen {
  return { id: where.conversationRefId, kind: where.kind, teamId: where.teamId, ...(where.kind === 'personal' ? { ownerRole: actor.role } : {}) };
}

function good(text: string): Reply {
  return { kind: 'card', card: confirmationCard(text, 'good'), summary: text, tone: 'good' };
}

function warn(text: string): Reply {
  return { kind: 'card', card: confirmationCard(text, 'warning'), summary: text, tone: 'warning' };
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The message activity for a reply card. */
export function replyActivity(reply: Extract<Reply, { kind: 'card' }>): Record<string, unknown> {
  return cardMessage(reply.card, reply.summary);
}

