import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { executeAction, VERBS } from './actions.js';
import { dialogAction, DIALOG_VERBS } from './dialog-cards.js';

/**
 * Cards for free text from a requester in a personal chat (teams/handlers/free-text.ts): the offer to
 * open a ticket with it, the question which open ticket it belongs to, and the note that a follow-up
 * joined a ticket. Buttons carry only the pending message's id (services/request-conversations.ts);
 * what the person wrote is shown literally.
 */

/** Teams shows at most six buttons in a card's action bar. */
export const CHOICES_MAX = 5;
const PREVIEW_MAX = 300;

export interface TicketChoice {
  id: number;
  reference: string;
  subject: string;
}

/** "Open a ticket with this?": one tap creates it; "Edit first" opens the new-ticket dialog filled in. */
export function requestOfferCard(options: { pending: string; subject: string; description: string; files: number }): AdaptiveCard {
  const body: CardElement[] = [
    { type: 'TextBlock', text: 'Open a ticket with this?', weight: 'Bolder', size: 'Medium', wrap: true },
    literalText({ text: 'Subject: ', weight: 'Bolder' }, options.subject),
  ];
  if (options.description) body.push(literalText({ text: preview(options.description), isSubtle: true }));
  if (options.files > 0) body.push({ type: 'TextBlock', text: `The ${options.files === 1 ? 'file' : `${options.files} files`} you sent will be kept on the ticket.`, isSubtle: true, wrap: true, spacing: 'Small' });
  return adaptiveCard(`Open a ticket: ${options.subject}`, body, [
    executeAction('Open ticket', VERBS.requestCreate, { pending: options.pending }, { style: 'positive' }),
    dialogAction('Edit first', DIALOG_VERBS.newTicket, { subject: options.subject, description: options.description }),
  ]);
}

/** "Is this about one of these?": a button per open ticket (likeliest first), and "It's new". */
export function requestChoiceCard(options: { pending: string; tickets: readonly TicketChoice[]; text: string }): AdaptiveCard {
  const shown = options.tickets.slice(0, CHOICES_MAX);
  const body: CardElement[] = [
    { type: 'TextBlock', text: 'Is this about one of your open tickets?', weight: 'Bolder', size: 'Medium', wrap: true },
    literalText({ text: preview(options.text), isSubtle: true }),
    { type: 'TextBlock', text: 'Pick the ticket to add it to, or open a new one.', wrap: true, spacing: 'Small' },
  ];
  const actions = [
    ...shown.map((t) => executeAction(buttonTitle(`${t.reference} · ${t.subject}`), VERBS.requestAttach, { pending: options.pending, ticket: t.id })),
    executeAction('It’s new', VERBS.requestCreate, { pending: options.pending }, { style: 'positive' }),
  ];
  return adaptiveCard('Is this about one of your open tickets?', body, actions);
}

/** A follow-up joined the ticket just discussed; one tap makes it a new request instead. */
export function followUpCard(options: { pending: string; reference: string; subject: string; files?: string }): AdaptiveCard {
  const body: CardElement[] = [
    {
      type: 'RichTextBlock',
      inlines: [
        { type: 'TextRun', text: '✓ ', weight: 'Bolder', color: 'Good' },
        { type: 'TextRun', text: `Added to ${options.reference} · ` },
        { type: 'TextRun', text: options.subject },
      ],
    },
  ];
  if (options.files) body.push(literalText({ text: options.files, isSubtle: true }));
  return adaptiveCard(`Added to ${options.reference}`, body, [executeAction('That’s a new request', VERBS.requestCreate, { pending: options.pending })]);
}

function preview(text: string): string {
  return text.length > PREVIEW_MAX ? `${text.slice(0, PREVIEW_MAX - 1).trimEnd()}…` : text;
}

function buttonTitle(text: string): string {
  return text.length > 60 ? `${text.slice(0, 59).trimEnd()}…` : text;
}
