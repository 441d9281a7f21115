import { PRIORITY_LABELS, STATUS_LABELS, type Ticket } from '../domain/tickets.js';
import { truncate } from './fields.js';

/**
 * The small card a search result shows in the compose box's list before it is picked: a thumbnail
 * card (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference#thumbnail-card),
 * as Teams lists message extension results with their `preview`
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/messaging-extensions/how-to/search-commands/respond-to-search).
 * It says only what the requester view of the ticket says too.
 */
export const THUMBNAIL_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.thumbnail';

export interface TicketPreview {
  contentType: typeof THUMBNAIL_CARD_CONTENT_TYPE;
  content: { title: string; subtitle: string; text?: string };
}

/**
 * Thumbnail cards format their text as a subset of HTML in Teams
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-format):
 * a person's words are escaped so `<b>` in a subject reads as typed.
 */
function plain(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function ticketPreview(ticket: Ticket, requesterName: string): TicketPreview {
  return {
    contentType: THUMBNAIL_CARD_CONTENT_TYPE,
    content: {
      title: plain(`${ticket.reference} · ${truncate(ticket.subject, 80)}`),
      subtitle: plain(`${STATUS_LABELS[ticket.status]} · ${PRIORITY_LABELS[ticket.priority]} · ${requesterName}`),
    },
  };
}
