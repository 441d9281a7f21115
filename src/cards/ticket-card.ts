import { ageLabel, PRIORITIES, PRIORITY_LABELS, SETTABLE_STATUSES, STATUS_LABELS, type Ticket } from '../domain/tickets.js';
import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { executeAction, showCardAction, VERBS } from './actions.js';
import { attachmentsSection, type AttachmentView } from './attachments-section.js';
import { DIALOG_VERBS, dialogAction } from './dialog-cards.js';
import { field, truncate } from './fields.js';
import { issuesSection } from './issues-section.js';
import type { IssueView } from '../domain/issue-trackers.js';
import { assistantMenu, triageSection, type TriageView } from './assistant-cards.js';

export type Audience = 'agent' | 'requester';

export interface TicketCardData {
  ticket: Ticket;
  requesterName: string;
  assigneeName: string | null;
  /** Agents the Assign picker lists before anything is typed (agents only see this); typing asks the bot. */
  agents: ReadonlyArray<{ id: number; name: string }>;
  /** The newest timeline entry this audience may see. */
  latest: { authorName: string | null; body: string; visibility: 'public' | 'internal' } | undefined;
  audience: Audience;
  /** A line above the facts: what just happened, or why an action was refused. */
  notice?: { text: string; tone: 'good' | 'warning' };
  /** Where the SLA clocks stand, in business time. */
  sla: { text: string; tone: 'good' | 'warning' | 'attention' | 'default' };
  /** Agents' view: who the customer is in the CRM, or why that is not known (yet). */
  customer?: { company?: string; owner?: string; openDeals?: number; status?: string };
  /** Agents' view of an email ticket: a sender the receiving server did not confirm, addresses our mail could not reach. */
  mail?: { unverifiedSender?: { address: string; check: string }; bounced?: ReadonlyArray<{ address: string; reason: string }> };
  /** The ticket's files this audience may see (shared views: no personal links on a card many see). */
  files?: readonly AttachmentView[];
  /** Agents' view: the Linear/Jira issues the ticket links, and whether one can be created from the card. */
  issues?: { linked: readonly IssueView[]; canCreate: boolean };
  /** Agents' view when the AI assistant is on: its menu entries, and a new ticket's triage suggestion. */
  assistant?: { triage?: TriageView };
  now: number;
}

/** The `Data.Query` dataset the Assign picker asks the bot for, as agents type (`application/search`). */
export const AGENTS_DATASET = 'agents';

/** How many agents the picker lists without typing: clients without typeahead pick from these. */
export const PICKER_FALLBACK_AGENTS = 10;

/**
 * Assign to: a people picker. Teams asks the bot for agents matching what is typed (dynamic typeahead,
 * `choices.data` of type `Data.Query`; "Typeahead search in Adaptive Cards",
 * https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search); the
 * static choices are what a client without typeahead shows, and the first suggestions before typing.
 * Teams reads `choices.data` in cards of any version (the page's own example is a 1.2 card), so the
 * card stays 1.5, which is what Teams supports for bot cards.
 */
function agentPicker(agents: TicketCardData['agents']): CardElement {
  return {
    type: 'Input.ChoiceSet',
    id: 'assignee',
    label: 'Assign to',
    placeholder: 'Type a name',
    isRequired: true,
    errorMessage: 'Choose who should work on it',
    choices: agents.slice(0, PICKER_FALLBACK_AGENTS).map((a) => ({ title: a.name, value: String(a.id) })),
    'choices.data': { type: 'Data.Query', dataset: AGENTS_DATASET },
  };
}

const SLA_COLORS = { good: 'Good', warning: 'Warning', attention: 'Attention' } as const;

const TIER_BADGES: Record<string, string> = { vip: '★ VIP', premium: '◆ Premium' };

const SOURCE_LABELS: Record<Ticket['source'], string> = { chat: 'Teams chat', channel: 'Teams channel', email: 'Email', api: 'API' };

/** The ticket card: the same view of a ticket wherever it is posted, with the actions the audience may take. */
export function ticketCard(data: TicketCardData): AdaptiveCard {
  const { ticket, audience } = data;
  const open = ticket.status !== 'resolved' && ticket.status !== 'closed';
  const body: CardElement[] = [
    {
      type: 'RichTextBlock',
      inlines: [
        { type: 'TextRun', text: ticket.reference, weight: 'Bolder', size: 'Medium', ...(ticket.priority === 'P1' ? { color: 'Attention' } : {}) },
        { type: 'TextRun', text: ' · ', size: 'Medium' },
        { type: 'TextRun', text: ticket.subject, weight: 'Bolder', size: 'Medium' },
        // VIP and premium customers stand out wherever the card is.
        ...(TIER_BADGES[ticket.tier] ? [{ type: 'TextRun' as const, text: `  ${TIER_BADGES[ticket.tier]}`, weight: 'Bolder' as const, size: 'Medium' as const, color: 'Accent' as const }] : []),
      ],
    },
  ];
  if (data.notice) {
    body.push(literalText({ text: data.notice.text, weight: 'Bolder', color: data.notice.tone === 'good' ? 'Good' : 'Warning' }));
  }
  body.push(
    field('Requester', data.requesterName),
    field('Assignee', data.assigneeName ?? 'Unassigned'),
    field('Priority', PRIORITY_LABELS[ticket.priority]),
    field('Status', STATUS_LABELS[ticket.status]),
    field('Opened', `${ageLabel(ticket.createdAt, data.now)} ago · updated ${ageLabel(ticket.updatedAt, data.now)} ago`),
    field('Source', SOURCE_LABELS[ticket.source]),
    field('SLA', data.sla.tone === 'default' ? data.sla.text : { text: data.sla.text, weight: 'Bolder', color: SLA_COLORS[data.sla.tone] }),
  );
  const customer = data.customer;
  if (customer?.status) body.push(field('Customer', { text: customer.status, isSubtle: true }));
  else if (customer?.company) {
    const facts = [customer.company, `tier ${ticket.tier}`, ...(customer.owner ? [`owner ${customer.owner}`] : []), ...(customer.openDeals !== undefined ? [`${customer.openDeals} open deal${customer.openDeals === 1 ? '' : 's'}`] : [])];
    body.push(field('Customer', facts.join(' · ')));
  }
  if (data.mail?.unverifiedSender) {
    body.push(field('Sender', { text: `⚠ ${data.mail.unverifiedSender.address}: sender not verified`, weight: 'Bolder', color: 'Attention' }));
  }
  for (const bounce of data.mail?.bounced ?? []) {
    body.push(field('Undeliverable', { text: `⚠ ${bounce.address}: ${bounce.reason}`, color: 'Warning' }));
  }
  if (data.latest) {
    const who = data.latest.authorName ?? 'Service Desk';
    const label = data.latest.visibility === 'internal' ? `${who} (internal)` : who;
    body.push({
      type: 'RichTextBlock',
      separator: true,
      inlines: [
        { type: 'TextRun', text: `${label}: `, weight: 'Bolder' },
        { type: 'TextRun', text: truncate(data.latest.body, 400) },
      ],
    });
  }
  body.push(...attachmentsSection(data.files ?? [], { getFiles: `files ${ticket.reference}` }));
  if (audience === 'agent') body.push(...issuesSection(data.issues?.linked ?? []));
  if (audience === 'agent' && data.assistant?.triage) body.push(...triageSection(ticket.id, data.assistant.triage));
  const id = { ticket: ticket.id };
  const actions: CardElement[] = [];
  // Teams shows at most six buttons on a card (its host config's maxActions): Take, the three dialogs,
  // Assign and More fit; the rarer changes and the history wait under More.
  if (audience === 'agent') {
    if (ticket.assigneeId === null && ticket.status !== 'closed') actions.push(executeAction('Take', VERBS.take, id, { style: 'positive' }));
    // Writing more than a line happens in a dialog with a real text area, not in inputs under the card.
    actions.push(dialogAction('Reply…', DIALOG_VERBS.reply, id), dialogAction('Note…', DIALOG_VERBS.note, id));
    if (open) actions.push(dialogAction('Resolve…', DIALOG_VERBS.resolve, id));
    actions.push(
      showCardAction('Assign', [agentPicker(data.agents)], executeAction('Assign', VERBS.assign, id)),
      showCardAction(
        'More',
        [
          { type: 'Input.ChoiceSet', id: 'priority', label: 'Priority', value: ticket.priority, choices: PRIORITIES.map((p) => ({ title: PRIORITY_LABELS[p], value: p })) },
          { type: 'ActionSet', actions: [executeAction('Set priority', VERBS.priority, id)] },
          {
            type: 'Input.ChoiceSet',
            id: 'status',
            label: 'Status',
            separator: true,
            value: open ? (ticket.status === 'new' ? 'open' : ticket.status) : ticket.status,
            choices: SETTABLE_STATUSES.map((s) => ({ title: STATUS_LABELS[s], value: s })),
          },
          { type: 'Input.Text', id: 'statusNote', label: 'Note with the status (optional)', maxLength: 2000 },
          { type: 'ActionSet', actions: [executeAction('Set status', VERBS.status, id)] },
          {
            type: 'Input.ChoiceSet',
            id: 'when',
            label: 'Remind me',
            separator: true,
            value: 'in 1h',
            choices: [
              { title: 'In 1 hour', value: 'in 1h' },
              { title: 'In 4 hours', value: 'in 4h' },
              { title: 'Tomorrow at 9:00', value: 'tomorrow 9:00' },
              { title: 'In 1 business day', value: 'in 1 business day' },
            ],
          },
          { type: 'Input.Text', id: 'whenText', label: 'Or type a time', placeholder: 'friday 14:00', maxLength: 100 },
          { type: 'ActionSet', actions: [executeAction('Set reminder', VERBS.remind, id)] },
          // Inside More, not beside it: the card keeps to Teams' six buttons.
          ...(data.issues?.canCreate ? [{ type: 'ActionSet', separator: true, actions: [dialogAction('Create issue…', DIALOG_VERBS.createIssue, id)] }] : []),
          ...(data.assistant ? assistantMenu(ticket.id) : []),
        ],
        executeAction('History', VERBS.history, id),
      ),
    );
  } else {
    actions.push(open ? dialogAction('Reply…', DIALOG_VERBS.reply, id) : executeAction('Reopen', VERBS.reopen, id));
    actions.push(executeAction('History', VERBS.history, id));
  }
  return adaptiveCard(`${ticket.reference}: ${ticket.subject} (${STATUS_LABELS[ticket.status]}, ${ticket.priority})`, body, actions);
}

/** The notification line for a ticket card: what people read in the toast and the chat list. */
export function ticketSummary(data: Pick<TicketCardData, 'ticket' | 'latest'>): string {
  const { ticket, latest } = data;
  const tail = latest ? `${latest.authorName ?? 'Service Desk'}: ${latest.body}` : ticket.subject;
  return truncate(`${ticket.reference} · ${tail}`, 120);
}
