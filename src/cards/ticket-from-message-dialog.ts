import type { TicketType } from '../domain/ticket-reference.js';
import { PRIORITY_LABELS, SUBJECT_MAX, type Priority } from '../domain/tickets.js';
import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';

/**
 * The "Create ticket" dialog of the message action: a form prefilled from the message (subject,
 * description, requester, priority, type), with the message's files and the link back to it shown
 * as what the ticket will keep. Teams shows it as a dialog (task module) and sends the inputs back
 * with `composeExtension/submitAction` when its Action.Submit is pressed
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/messaging-extensions/how-to/action-commands/respond-to-task-module-submit).
 * Problems of an earlier submit are listed above the inputs, which keep what was typed.
 */

export interface DialogChoice {
  value: string;
  title: string;
}

export interface TicketFromMessageDialogData {
  /** Prefilled from a message (true) or empty (compose box, command box). */
  fromMessage: boolean;
  subject: string;
  description: string;
  /** How long the description may be (the message's links take the rest of the ticket's room). */
  descriptionMax: number;
  type: TicketType;
  priority: Priority;
  /** The priorities this person may give a new ticket. */
  priorities: readonly Priority[];
  requester: string;
  /** Who the ticket can be for: the author, people mentioned, the caller. */
  requesters: readonly DialogChoice[];
  /** A note under the requester choice (e.g. who may file for whom). */
  requesterHint?: string;
  files: ReadonlyArray<{ name: string; kind: 'file' | 'image' }>;
  link: string | null;
  /** What was wrong with the last submit. */
  problems?: readonly string[];
}

/** Files named in the dialog; the ticket keeps them all. */
const FILES_SHOWN = 10;

/** The field ids the dialog sends back. */
export const DIALOG_FIELDS = { subject: 'subject', description: 'description', type: 'type', priority: 'priority', requester: 'requester' } as const;

export function ticketFromMessageDialog(d: TicketFromMessageDialogData): AdaptiveCard {
  const body: CardElement[] = [{ type: 'TextBlock', text: d.fromMessage ? 'New ticket from this message' : 'New ticket', weight: 'Bolder', size: 'Medium', wrap: true }];
  for (const problem of d.problems ?? []) body.push(literalText({ text: problem, color: 'Attention', weight: 'Bolder' }));
  body.push(
    { type: 'Input.Text', id: DIALOG_FIELDS.subject, label: 'Subject', placeholder: 'What is wrong, in a line', isRequired: true, errorMessage: 'A subject is needed', maxLength: SUBJECT_MAX, ...(d.subject ? { value: d.subject } : {}) },
    { type: 'Input.Text', id: DIALOG_FIELDS.description, label: 'Details', placeholder: 'What happened, what you expected, what you tried', isMultiline: true, maxLength: d.descriptionMax, ...(d.description ? { value: d.description } : {}) },
    {
      type: 'Input.ChoiceSet',
      id: DIALOG_FIELDS.requester,
      label: 'Requester',
      value: d.requester,
      choices: d.requesters.map((c) => ({ title: c.title, value: c.value })),
    },
  );
  if (d.requesterHint) body.push({ type: 'TextBlock', text: d.requesterHint, isSubtle: true, size: 'Small', wrap: true, spacing: 'None' });
  body.push(
    {
      type: 'Input.ChoiceSet',
      id: DIALOG_FIELDS.type,
      label: 'Type',
      value: d.type,
      choices: [
        { title: 'Something is broken (incident)', value: 'incident' },
        { title: 'Someone needs something (request)', value: 'request' },
      ],
    },
    { type: 'Input.ChoiceSet', id: DIALOG_FIELDS.priority, label: 'Priority', value: d.priorities.includes(d.priority) ? d.priority : d.priorities[0]!, choices: d.priorities.map((p) => ({ title: PRIORITY_LABELS[p], value: p })) },
  );
  if (d.files.length > 0) {
    body.push({ type: 'TextBlock', text: 'Files from the message (kept on the ticket as links)', weight: 'Bolder', wrap: true, spacing: 'Medium' });
    for (const file of d.files.slice(0, FILES_SHOWN)) body.push(literalText(`${file.kind === 'image' ? '🖼' : '📎'} ${file.name}`));
    if (d.files.length > FILES_SHOWN) body.push({ type: 'TextBlock', text: `and ${d.files.length - FILES_SHOWN} more`, isSubtle: true, wrap: true, spacing: 'None' });
  }
  if (d.link) body.push({ type: 'TextBlock', text: 'The ticket links back to the original message.', isSubtle: true, size: 'Small', wrap: true, spacing: 'Medium' });
  const actions: CardElement[] = [{ type: 'Action.Submit', title: 'Create ticket', style: 'positive' }];
  if (d.link) actions.push({ type: 'Action.OpenUrl', title: 'Open the message', url: d.link });
  return adaptiveCard(d.fromMessage ? 'New ticket from a message' : 'New ticket', body, actions);
}
