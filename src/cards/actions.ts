import type { CardElement } from './adaptive-card.js';

/** The verbs our cards send back, one per action; handlers register exactly these. */
export const VERBS = {
  take: 'ticket.take',
  assign: 'ticket.assign',
  priority: 'ticket.priority',
  status: 'ticket.status',
  note: 'ticket.note',
  comment: 'ticket.comment',
  reopen: 'ticket.reopen',
  history: 'ticket.history',
  create: 'ticket.create',
  more: 'list.more',
  open: 'ticket.open',
  snooze: 'sla.snooze',
  accept: 'escalation.accept',
  decline: 'escalation.decline',
  remind: 'reminder.create',
  reminderDone: 'reminder.complete',
  reminderSnooze: 'reminder.snooze',
  requestCreate: 'request.create',
  requestAttach: 'request.attach',
} as const;

export type Verb = (typeof VERBS)[keyof typeof VERBS];

/**
 * A Universal Action (`Action.Execute`, answered by the bot with a fresh card) that falls back to
 * `Action.Submit` on clients without Universal Actions; the submit carries the verb in its data,
 * which is how the bot tells the two apart.
 */
export function executeAction(title: string, verb: Verb, data: Record<string, unknown>, options: { style?: 'positive' | 'destructive' } = {}): CardElement {
  return {
    type: 'Action.Execute',
    title,
    verb,
    data,
    ...(options.style ? { style: options.style } : {}),
    fallback: { type: 'Action.Submit', title, data: { ...data, verb } },
  };
}

/** A button that opens inline inputs under the card, with the action (or actions) that send them. */
export function showCardAction(title: string, body: CardElement[], action: CardElement | CardElement[]): CardElement {
  const actions = Array.isArray(action) ? action : [action];
  return {
    type: 'Action.ShowCard',
    title,
    card: { type: 'AdaptiveCard', body, actions },
  };
}
