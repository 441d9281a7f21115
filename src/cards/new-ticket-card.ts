import { PRIORITIES, PRIORITY_LABELS, DESCRIPTION_MAX, SUBJECT_MAX, type Priority } from '../domain/tickets.js';
import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { executeAction, VERBS } from './actions.js';

/**
 * The form for a new ticket; `problem` (a refused earlier attempt) is shown above the inputs.
 * `priorities`: the ones this person may pick (requesters don't pick P1 unless an admin allows it).
 */
export function newTicketCard(options: { problem?: string; subject?: string; description?: string; priorities?: readonly Priority[] } = {}): AdaptiveCard {
  const priorities = options.priorities?.length ? options.priorities : PRIORITIES;
  const body: CardElement[] = [{ type: 'TextBlock', text: 'New ticket', weight: 'Bolder', size: 'Medium', wrap: true }];
  if (options.problem) body.push(literalText({ text: options.problem, color: 'Warning', weight: 'Bolder' }));
  body.push(
    { type: 'Input.Text', id: 'subject', label: 'Subject', placeholder: 'What is wrong, in a line', isRequired: true, errorMessage: 'A subject is needed', maxLength: SUBJECT_MAX, ...(options.subject ? { value: options.subject } : {}) },
    { type: 'Input.Text', id: 'description', label: 'Details', placeholder: 'What happened, what you expected, what you tried', isMultiline: true, maxLength: DESCRIPTION_MAX, ...(options.description ? { value: options.description } : {}) },
    {
      type: 'Input.ChoiceSet',
      id: 'type',
      label: 'Type',
      value: 'incident',
      choices: [
        { title: 'Something is broken (incident)', value: 'incident' },
        { title: 'I need something (request)', value: 'request' },
      ],
    },
    { type: 'Input.ChoiceSet', id: 'priority', label: 'Priority', value: priorities.includes('P3') ? 'P3' : priorities[0]!, choices: priorities.map((p) => ({ title: PRIORITY_LABELS[p], value: p })) },
  );
  return adaptiveCard('New ticket form', body, [executeAction('Create ticket', VERBS.create, {}, { style: 'positive' })]);
}
