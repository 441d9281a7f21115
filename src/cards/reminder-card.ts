import { PRIORITY_LABELS, STATUS_LABELS, type Ticket } from '../domain/tickets.js';
import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { executeAction, VERBS } from './actions.js';
import { field, localTime } from './fields.js';

/** A reminder as its card shows it: `pending` is waiting (again, when snoozed), `sent` has fired. */
export interface ReminderData {
  id: number;
  state: 'pending' | 'sent' | 'completed';
  dueAt: number;
}

export interface ReminderCardData {
  reminder: ReminderData;
  ticket: Ticket;
  assigneeName: string | null;
}

/** A reminder, acted on where it lands: Complete, or Snooze. */
export function reminderCard(data: ReminderCardData): AdaptiveCard {
  const { reminder, ticket } = data;
  const headline = reminder.state === 'completed' ? 'Reminder completed' : reminder.state === 'pending' ? 'Reminder snoozed' : 'Reminder';
  const body: CardElement[] = [
    literalText({ text: headline, weight: 'Bolder', size: 'Medium', color: reminder.state === 'completed' ? 'Good' : 'Accent' }),
    {
      type: 'RichTextBlock',
      inlines: [
        { type: 'TextRun', text: ticket.reference, weight: 'Bolder' },
        { type: 'TextRun', text: ' · ' },
        { type: 'TextRun', text: ticket.subject },
      ],
    },
    field('Status', STATUS_LABELS[ticket.status]),
    field('Priority', PRIORITY_LABELS[ticket.priority]),
    field('Assignee', data.assigneeName ?? 'Unassigned'),
  ];
  if (reminder.state === 'pending') body.push({ type: 'TextBlock', text: `Back at ${localTime(reminder.dueAt)}`, isSubtle: true, wrap: true });
  const id = { reminder: reminder.id };
  const actions: CardElement[] = [];
  if (reminder.state !== 'completed') {
    actions.push(
      executeAction('Complete', VERBS.reminderDone, id, { style: 'positive' }),
      executeAction('Snooze 15 min', VERBS.reminderSnooze, { ...id, minutes: 15 }),
      executeAction('Snooze 1 h', VERBS.reminderSnooze, { ...id, minutes: 60 }),
      executeAction('Tomorrow', VERBS.reminderSnooze, { ...id, tomorrow: true }),
    );
  }
  actions.push(executeAction('Open ticket', VERBS.open, { ticket: ticket.id }));
  return adaptiveCard(`${headline}: ${ticket.reference} ${ticket.subject}`, body, actions);
}
