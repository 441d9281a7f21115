import { PRIORITIES, PRIORITY_LABELS, DESCRIPTION_MAX, SUBJECT_MAX, type Priority } from '../domain/tickets.js';
import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { executeAction, VERBS } from './actions.js';

export interface NewTicketFormOptions {
  /** A refused earlier attempt, shown above the inputs. */
  problem?: string;
  /** What the person typed before, kept when the form comes back with a problem. */
  subject?: string;
  description?: string;
  type?: 'incident' | 'request';
  priority?: Priority;
  /** The ones this person may pick (requesters don't pick P1 unless an admin allows it). */
  priorities?: readonly Priority[];
}

/** The inputs of the new-ticket form, shared by the dialog (dialog-cards.ts) and the in-chat card. */
export function newTicketInputs(options: NewTicketFormOptions = {}): CardElement[] {
  const priorities = options.priorities?.length ? options.priorities : PRIORITIES;
  const body: CardElement[] = [];
  if (options.problem) body.push(literalText({ text: options.problem, color: 'Warning', weight: 'Bolder' }));
  const priority = options.priority && priorities.includes(options.priority) ? options.priority : priorities.includes('P3') ? 'P3' : priorities[0]!;
  body.push(
    { type: 'Input.Text', id: 'subject', label: 'Subject', placeholder: 'What is wrong, in a line', isRequired: true, errorMessage: 'A subject is needed', maxLength: SUBJECT_MAX, ...(options.subject ? { value: options.subject } : {}) },
    { type: 'Input.Text', id: 'description', label: 'Details', placeholder: 'What happened, what you expected, what you tried', isMultiline: true, maxLength: DESCRIPTION_MAX, ...(options.description ? { value: options.description } : {}) },
    {
      type: 'Input.ChoiceSet',
      id: 'type',
      label: 'Type',
      value: options.type ?? 'incident',
      choices: [
        { title: 'Something is broken (incident)', value: 'incident' },
        { title: 'I need something (request)', value: 'request' },
      ],
    },
    { type: 'Input.ChoiceSet', id: 'priority', label: 'Priority', value: priority, choices: priorities.map((p) => ({ title: PRIORITY_LABELS[p], value: p })) },
  );
  return body;
}

/**
 * The form for a new ticket as a card in the chat, sent with Action.Execute. New forms open in a
 * dialog (dialog-cards.ts); this one answers a "Create ticket" press on a form posted before, when it
 * comes back with a problem.
 */
export function newTicketCard(options: NewTicketFormOptions = {}): AdaptiveCard {
  const body: CardElement[] = [{ type: 'TextBlock', text: 'New ticket', weight: 'Bolder', size: 'Medium', wrap: true }, ...newTicketInputs(options)];
  return adaptiveCard('New ticket form', body, [executeAction('Create ticket', VERBS.create, {}, { style: 'positive' })]);
}
