import { ticketCard, ticketSummary, type Audience, type TicketCardData } from '../cards/ticket-card.js';
import { cardMessage } from '../cards/adaptive-card.js';
import type { Clock, SlaPolicy } from '../domain/sla.js';
import { clockStandingText, slaSummary } from '../domain/ticket-sla.js';
import { slaCard, slaSummaryLine, type SlaCardData } from '../cards/sla-card.js';
import { snoozesOf } from '../store/sla.js';
import { findEscalation } from '../store/escalations.js';
import { findReminder } from '../store/reminders.js';
import { reminderCard } from '../cards/reminder-card.js';
import { escalationCard, escalationHeadline } from '../cards/escalation-card.js';
import type { Ticket } from '../domain/tickets.js';
import type { Db } from '../store/database.js';
import { findPeople, listAgents } from '../store/people.js';
import { cachedFacts, type CrmFacts } from '../store/crm.js';
import { findTicket } from '../store/tickets.js';
import { listTimeline, type TimelineEntry } from '../store/timeline.js';
import { unverifiedSender } from '../store/mail.js';
import { participantsOf } from '../store/mail-participants.js';
import { listTicketAttachments } from '../store/ticket-attachments.js';
import { sharedCardViews } from './attachments/ticket-files.js';
import { issuesOfTicket } from '../store/issue-links.js';
import type { CardRenderer } from '../workers/delivery.js';
import type { AccessPolicy, ConversationSeen } from './access.js';
import type { TriageSuggestion } from './assistant.js';

/** Card kinds of SLA cards in the outbox and card posts: `sla-warning:first_response`, … */
const SLA_CARD_KIND = /^sla-(warning|breach):(first_response|resolution)$/;

/** Card kind of a reminder's card: `reminder:<id>`. */
const REMINDER_CARD_KIND = /^reminder:(\d+)$/;

/** Card kind of an escalation's card: `escalation:<id>`. */
const ESCALATION_CARD_KIND = /^escalation:(\d+)$/;

/** How many agents the Assign picker lists. */
const ASSIGNABLE_SHOWN = 30;

/**
 * Ticket cards as views of the ticket: built from the stored ticket whenever one is sent or updated,
 * for the audience of the conversation it lands in (channels and agents' chats see the agent card;
 * a requester's chat sees the requester card, without internal notes or agent actions).
 */
/** What the card says about the customer: CRM facts when known, or why not. */
/** Who wrote a timeline entry, as cards show it: an unconfirmed email is never shown as an agent's or colleague's own. */
export function authorName(entry: TimelineEntry, people: ReadonlyMap<number, { name: string }>): string | null {
  const name = entry.authorId === null ? null : (people.get(entry.authorId)?.name ?? null);
  return entry.senderNotVerified ? `${name ?? 'Unknown'} (sender not verified)` : name;
}

function customerFacts(ticket: Ticket, facts: CrmFacts | undefined): NonNullable<TicketCardData['customer']> {
  if (ticket.crmStatus === 'pending') return { status: 'Looking up in the CRM…' };
  if (ticket.crmStatus === 'unavailable') return { status: 'CRM unavailable' };
  if (!facts?.found) return {};
  return {
    ...(facts.companyName ? { company: facts.companyName } : {}),
    ...(facts.ownerId ? { owner: facts.ownerId } : {}),
    ...(facts.openDeals !== null ? { openDeals: facts.openDeals } : {}),
  };
}

export class TicketCards implements CardRenderer {
  /** The Assign picker's agents, read at most every few seconds rather than for every card. */
  private agents: { list: Array<{ id: number; name: string }>; until: number } | undefined;
  /** Whether Linear or Jira is connected: agents' cards then list linked issues and offer "Create issue". */
  issueTrackers = false;

  constructor(
    private readonly db: Db,
    private readonly access: AccessPolicy,
    private readonly sla: SlaPolicy,
    private readonly clock: () => number = Date.now,
    private readonly agentsMs = 10_000,
    /** The AI assistant, when on: agent cards offer its actions and show a new ticket's triage suggestion. */
    private readonly assistant?: { pendingTriage(ticketId: number): Promise<TriageSuggestion | undefined> },
  ) {}

  /** Forget the cached agent list, after a change of who is an agent. */
  clear(): void {
    this.agents = undefined;
  }

  private async assignable(): Promise<Array<{ id: number; name: string }>> {
    const now = this.clock();
    if (!this.agents || this.agents.until <= now) {
      this.agents = { list: (await listAgents(this.db, ASSIGNABLE_SHOWN)).map((a) => ({ id: a.id, name: a.name })), until: now + this.agentsMs };
    }
    return this.agents.list;
  }

  /** The card's data; pass `loaded` when the caller just read the ticket, to skip reading it again. */
  async data(ticketId: number, audience: Audience, notice?: TicketCardData['notice'], loaded?: Ticket): Promise<TicketCardData | undefined> {
    const ticket = loaded ?? (await findTicket(this.db, ticketId));
    if (!ticket) return undefined;
    const [latest] = await listTimeline(this.db, ticketId, { includeInternal: audience === 'agent', limit: 1 });
    const people = await findPeople(this.db, [ticket.requesterId, ...(ticket.assigneeId === null ? [] : [ticket.assigneeId]), ...(latest?.authorId ? [latest.authorId] : [])]);
    const agents = audience === 'agent' ? await this.assignable() : [];
    const email = people.get(ticket.requesterId)?.email?.toLowerCase();
    const facts = audience === 'agent' && email && ticket.crmStatus === 'ok' ? (await cachedFacts(this.db, [email])).get(email) : undefined;
    return {
      ticket,
      requesterName: people.get(ticket.requesterId)?.name ?? 'Unknown',
      assigneeName: ticket.assigneeId === null ? null : (people.get(ticket.assigneeId)?.name ?? 'Unknown'),
      agents,
      latest: latest && { authorName: authorName(latest, people), body: latest.body, visibility: latest.visibility },
      audience,
      ...(notice ? { notice } : {}),
      sla: slaSummary(this.sla, ticket, ticket.slaClocks, this.clock()),
      ...(audience === 'agent' ? { customer: customerFacts(ticket, facts) } : {}),
      ...(audience === 'agent' && ticket.source === 'email' ? { mail: await this.mailFlags(ticket.id) } : {}),
      files: sharedCardViews(await listTicketAttachments(this.db, ticketId, { includeInternal: audience === 'agent' })),
      ...(audience === 'agent' && this.issueTrackers ? { issues: { linked: await issuesOfTicket(this.db, ticketId), canCreate: true } } : {}),
      ...(audience === 'agent' && this.assistant ? { assistant: await this.assistantView(ticket.id) } : {}),
      now: this.clock(),
    };
  }

  private async assistantView(ticketId: number): Promise<NonNullable<TicketCardData['assistant']>> {
    const triage = await this.assistant!.pendingTriage(ticketId);
    return triage ? { triage: { type: triage.type, priority: triage.priority, teamName: triage.team?.name ?? null, reason: triage.reason } } : {};
  }

  private async mailFlags(ticketId: number): Promise<NonNullable<TicketCardData['mail']>> {
    const [unverified, participants] = await Promise.all([unverifiedSender(this.db, ticketId), participantsOf(this.db, ticketId)]);
    const bounced = participants.filter((p) => p.bouncedAt !== null).map((p) => ({ address: p.address, reason: p.bounceReason ?? 'our mail bounced' }));
    return { ...(unverified ? { unverifiedSender: unverified } : {}), ...(bounced.length > 0 ? { bounced } : {}) };
  }

  /** The card as a message activity, with the summary Teams shows in notifications. */
  async message(ticketId: number, audience: Audience, notice?: TicketCardData['notice']): Promise<{ activity: Record<string, unknown>; version: number } | undefined> {
    const data = await this.data(ticketId, audience, notice);
    if (!data) return undefined;
    return { activity: cardMessage(ticketCard(data), ticketSummary(data)), version: data.ticket.version };
  }

  /**
   * The card as it should read in `conversation`. Escalation and reminder cards (reasons, who declined,
   * an agent's own follow-ups) and the agent's view of a ticket go only where everyone present is an
   * agent; elsewhere (a group chat, a channel outside the desk) the ticket card is the requester's view,
   * however it is refreshed. SLA cards say nothing a requester may not know (due times, who has it).
   */
  async render(ticketId: number, cardKind: string, conversation: ConversationSeen) {
    const sla = SLA_CARD_KIND.exec(cardKind);
    if (sla) return this.slaMessage(ticketId, sla[1] as 'warning' | 'breach', sla[2] as Clock);
    const audience = await this.access.audienceOf(conversation);
    if (audience !== 'agent') return this.message(ticketId, 'requester');
    const escalation = ESCALATION_CARD_KIND.exec(cardKind);
    if (escalation) return this.escalationMessage(Number(escalation[1]));
    const reminder = REMINDER_CARD_KIND.exec(cardKind);
    if (reminder) return this.reminderMessage(Number(reminder[1]));
    return this.message(ticketId, 'agent');
  }

  /** A reminder's card as it stands now (due, snoozed or completed). */
  async reminderMessage(reminderId: number): Promise<{ activity: Record<string, unknown>; version: number } | undefined> {
    const reminder = await findReminder(this.db, reminderId);
    const ticket = reminder && (await findTicket(this.db, reminder.ticketId));
    if (!reminder || !ticket) return undefined;
    const assignee = ticket.assigneeId === null ? undefined : (await findPeople(this.db, [ticket.assigneeId])).get(ticket.assigneeId);
    const card = reminderCard({ reminder, ticket, assigneeName: assignee?.name ?? null });
    return { activity: cardMessage(card, `Reminder · ${ticket.reference} · ${ticket.subject}`), version: ticket.version };
  }

  /** An escalation's card as it stands now: whose turn it is, who declined, who accepted. */
  async escalationMessage(escalationId: number): Promise<{ activity: Record<string, unknown>; version: number } | undefined> {
    const escalation = await findEscalation(this.db, escalationId);
    const ticket = escalation && (await findTicket(this.db, escalation.ticketId));
    if (!escalation || !ticket) return undefined;
    const ids = [ticket.requesterId, ...(ticket.assigneeId === null ? [] : [ticket.assigneeId]), ...(escalation.acceptedBy ? [escalation.acceptedBy] : []), ...(escalation.startedBy ? [escalation.startedBy] : []), ...escalation.history.flatMap((s) => (s.outcome === 'declined' ? [s.by] : []))];
    const people = await findPeople(this.db, ids);
    const names = new Map([...people].map(([id, p]) => [id, p.name]));
    const data = {
      escalation,
      ticket,
      requesterName: names.get(ticket.requesterId) ?? 'Unknown',
      assigneeName: ticket.assigneeId === null ? null : (names.get(ticket.assigneeId) ?? 'Unknown'),
      names,
    };
    // The version only has to grow with each state; the escalation's steps do.
    return { activity: cardMessage(escalationCard(data), `${escalationHeadline(data)} · ${ticket.reference}`), version: ticket.version };
  }

  /** An SLA warning or breach card, as it stands now (time left, who snoozed it). */
  async slaMessage(ticketId: number, kind: 'warning' | 'breach', clock: Clock): Promise<{ activity: Record<string, unknown>; version: number } | undefined> {
    const ticket = await findTicket(this.db, ticketId);
    if (!ticket) return undefined;
    const snooze = (await snoozesOf(this.db, ticketId))[clock];
    const people = await findPeople(this.db, [ticket.requesterId, ...(ticket.assigneeId === null ? [] : [ticket.assigneeId]), ...(snooze?.byPersonId ? [snooze.byPersonId] : [])]);
    const now = this.clock();
    const data: SlaCardData = {
      kind,
      clock,
      ticket,
      requesterName: people.get(ticket.requesterId)?.name ?? 'Unknown',
      assigneeName: ticket.assigneeId === null ? null : (people.get(ticket.assigneeId)?.name ?? 'Unknown'),
      standing: clockStandingText(this.sla, ticket, ticket.slaClocks, clock, now),
      ...(snooze ? { snooze: { until: snooze.until, byName: (snooze.byPersonId && people.get(snooze.byPersonId)?.name) || 'someone' } } : {}),
      now,
    };
    return { activity: cardMessage(slaCard(data), slaSummaryLine(data)), version: ticket.version };
  }

  async currentVersion(ticketId: number): Promise<number | undefined> {
    return (await findTicket(this.db, ticketId))?.version;
  }

}
