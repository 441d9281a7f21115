import { NOTE_MAX, type Ticket } from '../domain/tickets.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { newTicketInputs, type NewTicketFormOptions } from './new-ticket-card.js';

/**
 * Dialogs (Teams "task modules") for what a card does badly: writing more than a line. A button sends
 * `task/fetch` with its data, the bot answers with one of these, and the dialog's Submit sends
 * `task/submit` with the same verb and what was typed.
 * https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/task-modules/task-modules-bots
 */

/** The verbs of our dialogs, carried in `data.verb` of both the opening button and the dialog's Submit. */
export const DIALOG_VERBS = {
  reply: 'dialog.reply',
  note: 'dialog.note',
  resolve: 'dialog.resolve',
  newTicket: 'dialog.new-ticket',
  createIssue: 'dialog.create-issue',
} as const;

export type DialogVerb = (typeof DIALOG_VERBS)[keyof typeof DIALOG_VERBS];

/** The dialogs about one ticket, each with one multi-line text. */
export type TextDialogKind = 'reply' | 'note' | 'resolve';

/** What Teams opens: the `value` of a `{ task: { type: 'continue' } }` answer (botbuilder's TaskModuleTaskInfo). */
export interface DialogInfo {
  title: string;
  height: 'small' | 'medium' | 'large';
  width: 'small' | 'medium' | 'large';
  card: { contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE; content: AdaptiveCard };
}

/**
 * A button that opens a dialog: an Action.Submit whose `msteams.type` is `task/fetch` makes Teams send
 * the `task/fetch` invoke, with the button's data, instead of a message (Microsoft Learn, "Use dialogs
 * with bots", https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/task-modules/task-modules-bots).
 * Every Teams client opens dialogs, so unlike Action.Execute it needs no fallback.
 */
export function dialogAction(title: string, verb: DialogVerb, data: Record<string, unknown>): CardElement {
  return { type: 'Action.Submit', title, data: { msteams: { type: 'task/fetch' }, verb, ...data } };
}

const TEXT_DIALOGS: Record<TextDialogKind, { title: string; verb: DialogVerb; submit: string; empty: string }> = {
  reply: { title: 'Reply', verb: DIALOG_VERBS.reply, submit: 'Send reply', empty: 'Write your reply first' },
  note: { title: 'Internal note', verb: DIALOG_VERBS.note, submit: 'Add note', empty: 'Write the note first' },
  resolve: { title: 'Resolve', verb: DIALOG_VERBS.resolve, submit: 'Resolve ticket', empty: 'Say how it was resolved' },
};

/** Who reads what is typed, said above the text area, so nobody posts to the requester by mistake. */
function audienceLine(kind: TextDialogKind, ticket: Pick<Ticket, 'source'>, byAgent: boolean): string {
  if (kind === 'note') return 'Only agents see internal notes.';
  if (kind === 'resolve') return ticket.source === 'email' ? 'The requester is told the ticket is resolved, with this note.' : 'The requester sees this note with the resolution.';
  if (!byAgent) return 'The agents working on your ticket see your reply.';
  return ticket.source === 'email' ? 'Sent to the requester by email, in the same thread.' : 'The requester sees this reply.';
}

/**
 * Reply, internal note or resolve-with-note on one ticket: a multi-line text area and Submit. `text`
 * and `problem` come back when a submit was refused, so nothing typed is lost.
 */
export function textDialog(
  kind: TextDialogKind,
  ticket: Pick<Ticket, 'id' | 'reference' | 'subject' | 'source'>,
  options: { byAgent: boolean; text?: string; problem?: string },
): DialogInfo {
  const spec = TEXT_DIALOGS[kind];
  const body: CardElement[] = [
    literalText({ text: ticket.reference, weight: 'Bolder' }, ' · ', ticket.subject),
    { type: 'TextBlock', text: audienceLine(kind, ticket, options.byAgent), isSubtle: true, wrap: true, spacing: 'Small' },
  ];
  if (options.problem) body.push(literalText({ text: options.problem, color: 'Warning', weight: 'Bolder' }));
  body.push({
    type: 'Input.Text',
    id: 'text',
    label: kind === 'resolve' ? 'How it was resolved' : kind === 'note' ? 'Note' : 'Reply',
    isMultiline: true,
    isRequired: true,
    errorMessage: spec.empty,
    maxLength: NOTE_MAX,
    ...(options.text ? { value: options.text } : {}),
  });
  const card = adaptiveCard(`${spec.title}: ${ticket.reference}`, body, [
    { type: 'Action.Submit', title: spec.submit, ...(kind === 'resolve' ? { style: 'positive' } : {}), data: { verb: spec.verb, ticket: ticket.id } },
  ]);
  return dialog(`${spec.title} · ${ticket.reference}`, card);
}

/** The new-ticket form in a dialog, with room for the details. */
export function newTicketDialog(options: NewTicketFormOptions = {}): DialogInfo {
  const card = adaptiveCard('New ticket form', newTicketInputs(options), [
    { type: 'Action.Submit', title: 'Create ticket', style: 'positive', data: { verb: DIALOG_VERBS.newTicket } },
  ]);
  return dialog('New ticket', card);
}

/** The answer to a typed "new" without words: a button that opens the form. */
export function newTicketPromptCard(): AdaptiveCard {
  return adaptiveCard(
    'New ticket',
    [
      { type: 'TextBlock', text: 'New ticket', weight: 'Bolder', size: 'Medium', wrap: true },
      { type: 'TextBlock', text: 'Open the form to describe the problem, or type “new” followed by it, e.g. “new VPN drops every 10 minutes”.', wrap: true },
    ],
    [dialogAction('New ticket…', DIALOG_VERBS.newTicket, {})],
  );
}

function dialog(title: string, card: AdaptiveCard): DialogInfo {
  // "medium" leaves the multi-line text area room to grow without covering the conversation.
  return { title, height: 'medium', width: 'medium', card: { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card } };
}

