import { PRIORITY_LABELS, type Ticket } from '../domain/tickets.js';
import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { executeAction, showCardAction, VERBS } from './actions.js';
import { field } from './fields.js';

/** One level that did not take the escalation: declined by someone, or left unanswered. */
export type EscalationStepData = { level: number; outcome: 'declined'; by: number; reason: string | null } | { level: number; outcome: 'timed-out' };

/** Where an escalation stands; `level` counts from 0, people are ids looked up in `names`. */
export interface EscalationData {
  id: number;
  state: 'open' | 'accepted' | 'exhausted';
  level: number;
  levels: number;
  trigger: 'breach' | 'manual';
  reason: string | null;
  startedBy: number | null;
  acceptedBy: number | null;
  history: readonly EscalationStepData[];
}

export interface EscalationCardData {
  escalation: EscalationData;
  ticket: Ticket;
  requesterName: string;
  assigneeName: string | null;
  /** Names of the people in the escalation's history and of who accepted it. */
  names: ReadonlyMap<number, string>;
}

/** The card each escalation level gets: Accept or Decline, and afterwards who did what. */
export function escalationCard(data: EscalationCardData): AdaptiveCard {
  const { escalation, ticket, names } = data;
  const name = (id: number | null) => (id === null ? 'someone' : (names.get(id) ?? 'someone'));
  const headline = escalationHeadline(data);
  const body: CardElement[] = [
    literalText({ text: headline, weight: 'Bolder', size: 'Medium', color: escalation.state === 'accepted' ? 'Good' : 'Attention' }),
    {
      type: 'RichTextBlock',
      inlines: [
        { type: 'TextRun', text: ticket.reference, weight: 'Bolder' },
        { type: 'TextRun', text: ' · ' },
        { type: 'TextRun', text: ticket.subject },
      ],
    },
    field('Why', escalation.trigger === 'breach' ? 'SLA breached' : `Escalated by ${name(escalation.startedBy)}${escalation.reason ? `: ${escalation.reason}` : ''}`),
    field('Customer', data.requesterName),
    field('Priority', PRIORITY_LABELS[ticket.priority]),
    field('Assignee', data.assigneeName ?? 'Unassigned'),
  ];
  for (const step of escalation.history) {
    body.push(
      literalText({
        text: step.outcome === 'declined' ? `Level ${step.level + 1}: declined by ${name(step.by)}${step.reason ? ` (${step.reason})` : ''}` : `Level ${step.level + 1}: no answer in time`,
        isSubtle: true,
      }),
    );
  }
  const id = { escalation: escalation.id };
  const actions: CardElement[] = [];
  if (escalation.state !== 'accepted') actions.push(executeAction('Accept', VERBS.accept, id, { style: 'positive' }));
  if (escalation.state === 'open') {
    actions.push(
      showCardAction(
        'Decline',
        [{ type: 'Input.Text', id: 'reason', label: 'Why (optional)', maxLength: 500 }],
        executeAction('Decline', VERBS.decline, id, { style: 'destructive' }),
      ),
    );
  }
  actions.push(executeAction('Open ticket', VERBS.open, { ticket: ticket.id }));
  return adaptiveCard(`${headline}: ${ticket.reference} ${ticket.subject}`, body, actions);
}

export function escalationHeadline(data: Pick<EscalationCardData, 'escalation' | 'names'>): string {
  const { escalation } = data;
  if (escalation.state === 'accepted') return `Escalation accepted by ${data.names.get(escalation.acceptedBy!) ?? 'someone'}`;
  if (escalation.state === 'exhausted') return 'Escalation: nobody has accepted yet';
  return `Escalation: level ${escalation.level + 1} of ${escalation.levels}, will you take it?`;
}
