import { NOTE_MAX, PRIORITY_LABELS, type Priority, type Ticket } from '../domain/tickets.js';
import type { TicketType } from '../domain/ticket-reference.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { DIALOG_VERBS, type DialogInfo } from './dialog-cards.js';

/**
 * What the optional AI assistant shows: a Summary card, a Suggest-reply dialog and a triage suggestion
 * on the agent card. Every one carries the same label, so nobody mistakes a model's words for a
 * colleague's or for a decision: a suggestion is checked, edited, and then sent or applied by a person.
 */

export const SUGGESTION_LABEL = 'Suggested by the assistant — check before use';

/** The verbs of the assistant's buttons (Action.Execute, and the dialog's task/fetch). */
export const ASSISTANT_VERBS = {
  summary: 'assistant.summary',
  accept: 'assistant.triage.accept',
  dismiss: 'assistant.triage.dismiss',
  reply: 'assistant.reply',
} as const;

export type AssistantVerb = (typeof ASSISTANT_VERBS)[keyof typeof ASSISTANT_VERBS];

export function isAssistantVerb(verb: unknown): verb is AssistantVerb {
  return typeof verb === 'string' && (Object.values(ASSISTANT_VERBS) as string[]).includes(verb);
}

/** The triage suggestion as the agent card shows it. */
export interface TriageView {
  type: TicketType;
  priority: Priority;
  teamName: string | null;
  reason: string;
}

/** Like cards/actions.ts executeAction: Action.Execute with an Action.Submit fallback carrying the verb. */
function assistantAction(title: string, verb: AssistantVerb, data: Record<string, unknown>, style?: 'positive'): CardElement {
  return { type: 'Action.Execute', title, verb, data, ...(style ? { style } : {}), fallback: { type: 'Action.Submit', title, data: { ...data, verb } } };
}

const label = (): CardElement => ({ type: 'TextBlock', text: SUGGESTION_LABEL, isSubtle: true, wrap: true, size: 'Small', weight: 'Bolder', color: 'Accent' });

/** The assistant's entries in the ticket card's More menu (agents only, and only when it is on). */
export function assistantMenu(ticketId: number): CardElement[] {
  return [
    { type: 'TextBlock', text: 'Assistant', weight: 'Bolder', separator: true, wrap: true },
    {
      type: 'ActionSet',
      actions: [
        assistantAction('Summary', ASSISTANT_VERBS.summary, { ticket: ticketId }),
        { type: 'Action.Submit', title: 'Suggest reply…', data: { msteams: { type: 'task/fetch' }, verb: ASSISTANT_VERBS.reply, ticket: ticketId } },
      ],
    },
  ];
}

/** The triage suggestion in the agent card's body, with Accept and Dismiss (an ActionSet of its own: the card's six buttons stay as they are). */
export function triageSection(ticketId: number, triage: TriageView): CardElement[] {
  const facts = [`Type: ${triage.type}`, `Priority: ${PRIORITY_LABELS[triage.priority]}`, ...(triage.teamName ? [`Team: ${triage.teamName}`] : [])].join(' · ');
  return [
    { type: 'Container', separator: true, style: 'emphasis', items: [label(), literalText({ text: 'Triage: ', weight: 'Bolder' }, facts), ...(triage.reason ? [literalText({ text: triage.reason, isSubtle: true })] : [])] },
    {
      type: 'ActionSet',
      actions: [assistantAction('Accept triage', ASSISTANT_VERBS.accept, { ticket: ticketId }, 'positive'), assistantAction('Dismiss', ASSISTANT_VERBS.dismiss, { ticket: ticketId })],
    },
  ];
}

/** The Summary, posted as its own message under the ticket card. */
export function summaryCard(ticket: Pick<Ticket, 'reference' | 'subject'>, lines: readonly string[]): AdaptiveCard {
  return adaptiveCard(`Summary of ${ticket.reference}: ${lines.join(' ')}`, [
    literalText({ text: `Summary · ${ticket.reference}`, weight: 'Bolder', size: 'Medium' }, ' · ', ticket.subject),
    label(),
    ...lines.map((line) => literalText(`• ${line}`)),
  ]);
}

/**
 * Suggest reply: the draft in an editable multi-line text, whose Submit is the ordinary Reply
 * dialog's (`dialog.reply`): sending it is the agent's press, through the same reply path, checks and
 * email thread as a reply typed from scratch. `problem`: why there is no draft (the assistant was slow,
 * over budget, or unusable); the agent writes the reply themselves.
 */
export function suggestReplyDialog(ticket: Pick<Ticket, 'id' | 'reference' | 'subject' | 'source'>, draft: string | undefined, problem?: string): DialogInfo {
  const body: CardElement[] = [
    literalText({ text: ticket.reference, weight: 'Bolder' }, ' · ', ticket.subject),
    { type: 'TextBlock', text: ticket.source === 'email' ? 'Sent to the requester by email, in the same thread, when you press Send reply.' : 'The requester sees this reply when you press Send reply.', isSubtle: true, wrap: true, spacing: 'Small' },
  ];
  if (draft !== undefined) body.push(label());
  if (problem) body.push(literalText({ text: problem, color: 'Warning', weight: 'Bolder' }));
  body.push({
    type: 'Input.Text',
    id: 'text',
    label: draft !== undefined ? 'Reply (a suggestion: edit it before sending)' : 'Reply',
    isMultiline: true,
    isRequired: true,
    errorMessage: 'Write your reply first',
    maxLength: NOTE_MAX,
    ...(draft !== undefined ? { value: draft.slice(0, NOTE_MAX) } : {}),
  });
  const card = adaptiveCard(`Reply: ${ticket.reference}`, body, [{ type: 'Action.Submit', title: 'Send reply', data: { verb: DIALOG_VERBS.reply, ticket: ticket.id } }]);
  return { title: `Suggested reply · ${ticket.reference}`, height: 'medium', width: 'medium', card: { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card } };
}
