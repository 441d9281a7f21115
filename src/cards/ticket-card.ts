import { ageLabel, PRIORITIES, PRIORITY_LABELS, SETTABLE_STATUSES, STATUS_LABELS, type Ticket } from '../domain/tickets.js';
import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { executeAction, showCardAction, VERBS } from './actions.js';
import { field, truncate } from './fields.js';

export type Audience = 'agent' | 'requester';

export interface TicketCardData {
  ticket: Ticket;
  requesterName: string;
  assigneeName: string | null;
  /** Who the ticket can be assigned to (agents only see this). */
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
  now: number;
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
  const id = { ticket: ticket.id };
  const actions: CardElement[] = [];
  if (audience === 'agent') {
    if (ticket.assigneeId === null && ticket.status !== 'closed') actions.push(executeAction('Take', VERBS.take, id, { style: 'positive' }));
    actions.push(
      showCardAction(
        'Assign',
        [
          {
            type: 'Input.ChoiceSet',
            id: 'assignee',
            label: 'Assign to',
            isRequired: true,
            errorMessage: 'Choose who should work on it',
            choices: data.agents.map((a) => ({ title: a.name, value: String(a.id) })),
          },
        ],
        executeAction('Assign', VERBS.assign, id),
      ),
      // Priority and status share one panel: Teams shows at most six buttons on a card.
      showCardAction(
        'Change',
        [
          { type: 'Input.ChoiceSet', id: 'priority', label: 'Priority', value: ticket.priority, choices: PRIORITIES.map((p) => ({ title: PRIORITY_LABELS[p], value: p })) },
          {
            type: 'Input.ChoiceSet',
            id: 'status',
            label: 'Status',
            value: open ? (ticket.status === 'new' ? 'open' : ticket.status) : ticket.status,
            choices: SETTABLE_STATUSES.map((s) => ({ title: STATUS_LABELS[s], value: s })),
          },
          { type: 'Input.Text', id: 'statusNote', label: 'Note with the status (optional)', isMultiline: true, maxLength: 2000 },
        ],
        [executeAction('Set priority', VERBS.priority, id), executeAction('Set status', VERBS.status, id)],
      ),
      // Reply (to the requester: by email for tickets that came by email) or an internal note, typed in place.
      showCardAction(
        'Reply',
        [
          { type: 'Input.Text', id: 'note', label: ticket.source === 'email' ? 'Reply (sent by email in the same thread)' : 'Reply', isMultiline: true, isRequired: true, errorMessage: 'Write something first', maxLength: 8000 },
          {
            type: 'Input.ChoiceSet',
            id: 'visibility',
            label: 'Who sees it',
            value: 'public',
            choices: [
              { title: ticket.source === 'email' ? 'The requester, by email' : 'The requester too (public reply)', value: 'public' },
              { title: 'Agents only (internal note)', value: 'internal' },
            ],
          },
        ],
        executeAction('Send', VERBS.note, id),
      ),
      showCardAction(
        'Remind me',
        [
          {
            type: 'Input.ChoiceSet',
            id: 'when',
            label: 'When',
            value: 'in 1h',
            choices: [
              { title: 'In 1 hour', value: 'in 1h' },
              { title: 'In 4 hours', value: 'in 4h' },
              { title: 'Tomorrow at 9:00', value: 'tomorrow 9:00' },
              { title: 'In 1 business day', value: 'in 1 business day' },
            ],
          },
          { type: 'Input.Text', id: 'whenText', label: 'Or type a time', placeholder: 'friday 14:00', maxLength: 100 },
        ],
        executeAction('Set reminder', VERBS.remind, id),
      ),
    );
  } else {
    if (open) {
      actions.push(
        showCardAction(
          'Add comment',
          [{ type: 'Input.Text', id: 'note', label: 'Comment', isMultiline: true, isRequired: true, errorMessage: 'Write something first', maxLength: 8000 }],
          executeAction('Send', VERBS.comment, id),
        ),
      );
    } else {
      actions.push(executeAction('Reopen', VERBS.reopen, id));
    }
  }
  actions.push(executeAction('History', VERBS.history, id));
  return adaptiveCard(`${ticket.reference}: ${ticket.subject} (${STATUS_LABELS[ticket.status]}, ${ticket.priority})`, body, actions);
}

/** The notification line for a ticket card: what people read in the toast and the chat list. */
export function ticketSummary(data: Pick<TicketCardData, 'ticket' | 'latest'>): string {
  const { ticket, latest } = data;
  const tail = latest ? `${latest.authorName ?? 'Service Desk'}: ${latest.body}` : ticket.subject;
  return truncate(`${ticket.reference} · ${tail}`, 120);
}
