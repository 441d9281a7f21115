import type { ListKind } from '../domain/commands.js';
import { ageLabel, STATUS_LABELS, type Ticket } from '../domain/tickets.js';
import { adaptiveCard, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { executeAction, VERBS } from './actions.js';

export const LIST_TITLES: Record<ListKind, string> = {
  mine: 'Your tickets',
  open: 'Open tickets',
  unassigned: 'Unassigned tickets',
  team: "Your team's tickets",
  breaching: 'Tickets close to breaching their SLA',
};

const EMPTY: Record<ListKind, string> = {
  mine: 'Nothing here. Type **new** to open a ticket.',
  open: 'No open tickets.',
  unassigned: 'Every open ticket has someone on it.',
  team: 'No open tickets for this team.',
  breaching: 'Nothing is close to breaching.',
};

export interface ListCardData {
  kind: ListKind;
  tickets: readonly Ticket[];
  names: ReadonlyMap<number, string>;
  /** 1-based page number, for the heading. */
  page: number;
  /** Data for the "More" button; absent on the last page. */
  more: Record<string, unknown> | undefined;
  now: number;
}

/** One page of tickets, newest activity first, with a button for the next page. */
export function listCard(data: ListCardData): AdaptiveCard {
  const title = data.page > 1 ? `${LIST_TITLES[data.kind]} (page ${data.page})` : LIST_TITLES[data.kind];
  const body: CardElement[] = [{ type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', wrap: true }];
  if (data.tickets.length === 0) body.push({ type: 'TextBlock', text: data.page > 1 ? 'No more tickets.' : EMPTY[data.kind], wrap: true, isSubtle: true });
  for (const ticket of data.tickets) {
    const assignee = ticket.assigneeId === null ? 'unassigned' : (data.names.get(ticket.assigneeId) ?? 'someone');
    body.push({
      type: 'Container',
      separator: true,
      spacing: 'Small',
      items: [
        {
          type: 'RichTextBlock',
          inlines: [
            { type: 'TextRun', text: ticket.reference, weight: 'Bolder', ...(ticket.priority === 'P1' ? { color: 'Attention' } : {}) },
            { type: 'TextRun', text: ' · ' },
            { type: 'TextRun', text: ticket.subject },
          ],
        },
        {
          type: 'RichTextBlock',
          inlines: [
            { type: 'TextRun', text: `${ticket.priority} · ${STATUS_LABELS[ticket.status]} · `, isSubtle: true, size: 'Small' },
            { type: 'TextRun', text: assignee, isSubtle: true, size: 'Small' },
            { type: 'TextRun', text: ` · updated ${ageLabel(ticket.updatedAt, data.now)} ago`, isSubtle: true, size: 'Small' },
          ],
        },
      ],
    });
  }
  const actions = data.more ? [executeAction('More', VERBS.more, data.more)] : undefined;
  const fallback = data.tickets.length === 0 ? `${title}: none` : `${title}: ${data.tickets.map((t) => t.reference).join(', ')}`;
  return adaptiveCard(fallback, body, actions);
}
