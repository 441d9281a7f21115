import type { Clock } from '../domain/sla.js';
import { PRIORITY_LABELS, type Ticket } from '../domain/tickets.js';
import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { executeAction, showCardAction, VERBS } from './actions.js';
import { field, localTime } from './fields.js';

export interface SlaCardData {
  kind: 'warning' | 'breach';
  clock: Clock;
  ticket: Ticket;
  requesterName: string;
  assigneeName: string | null;
  /** "15m left", "breached 10m ago": business time, as of rendering. */
  standing: string;
  snooze?: { until: number; byName: string };
  now: number;
}

const CLOCK_LABELS: Record<Clock, string> = { first_response: 'First response', resolution: 'Resolution' };

/** A warning before an SLA is breached, or the breach itself: acted on where it lands. */
export function slaCard(data: SlaCardData): AdaptiveCard {
  const { ticket } = data;
  const headline = data.kind === 'warning' ? `SLA warning: ${CLOCK_LABELS[data.clock].toLowerCase()} ${data.standing}` : `SLA breached: ${CLOCK_LABELS[data.clock].toLowerCase()} ${data.standing}`;
  const body: CardElement[] = [
    literalText({ text: headline, weight: 'Bolder', size: 'Medium', color: data.kind === 'warning' ? 'Warning' : 'Attention' }),
    {
      type: 'RichTextBlock',
      inlines: [
        { type: 'TextRun', text: ticket.reference, weight: 'Bolder' },
        { type: 'TextRun', text: ' · ' },
        { type: 'TextRun', text: ticket.subject },
      ],
    },
    field('Customer', data.requesterName),
    field('Priority', PRIORITY_LABELS[ticket.priority]),
    field('Assignee', data.assigneeName ?? 'Unassigned'),
  ];
  if (data.snooze && data.snooze.until > data.now) {
    body.push(
      literalText({ text: `Snoozed by ${data.snooze.byName} until `, isSubtle: true }),
      { type: 'TextBlock', text: localTime(data.snooze.until), isSubtle: true, spacing: 'None', wrap: true },
    );
  }
  const id = { ticket: ticket.id };
  const actions: CardElement[] = [executeAction('Open', VERBS.open, id)];
  if (ticket.assigneeId === null) actions.push(executeAction('Take', VERBS.take, id, { style: 'positive' }));
  if (data.kind === 'warning') {
    actions.push(
      executeAction('Snooze 30 min', VERBS.snooze, { ...id, clock: data.clock, minutes: 30 }),
      executeAction('Snooze 1 h', VERBS.snooze, { ...id, clock: data.clock, minutes: 60 }),
      showCardAction(
        'Snooze…',
        [{ type: 'Input.Number', id: 'minutes', label: 'Minutes', min: 5, max: 1440, value: 120, isRequired: true, errorMessage: 'Between 5 and 1440 minutes' }],
        executeAction('Snooze', VERBS.snooze, { ...id, clock: data.clock }),
      ),
    );
  }
  return adaptiveCard(`${headline}: ${ticket.reference} ${ticket.subject}`, body, actions);
}

export function slaSummaryLine(data: Pick<SlaCardData, 'kind' | 'clock' | 'ticket' | 'standing'>): string {
  return `${data.kind === 'warning' ? 'SLA warning' : 'SLA breached'} · ${data.ticket.reference} · ${CLOCK_LABELS[data.clock]} ${data.standing}`;
}
