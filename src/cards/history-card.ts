import type { Ticket } from '../domain/tickets.js';
import { adaptiveCard, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { attachmentsSection, type AttachmentView } from './attachments-section.js';
import { localTime } from './fields.js';

export interface HistoryEntry {
  at: number;
  kind: string;
  visibility: 'public' | 'internal';
  authorName: string | null;
  body: string;
}

const KIND_LABELS: Record<string, string> = {
  created: 'opened the ticket',
  assigned: 'assignment',
  unassigned: 'assignment',
  priority: 'priority',
  status: 'status',
  note: 'internal note',
  reply: 'reply',
  'issue-linked': 'issue linked',
  'issue-unlinked': 'issue unlinked',
  'issue-state': 'linked issue',
};

/**
 * A ticket's timeline, oldest first; internal entries are marked (and never passed in for requesters).
 * Its files (from email and Teams) follow, with a "Get files" button for personal links.
 */
export function historyCard(ticket: Ticket, entries: readonly HistoryEntry[], files: readonly AttachmentView[] = []): AdaptiveCard {
  const body: CardElement[] = [
    {
      type: 'RichTextBlock',
      inlines: [
        { type: 'TextRun', text: `History of ${ticket.reference}`, weight: 'Bolder', size: 'Medium' },
        { type: 'TextRun', text: ` · ${ticket.subject}`, size: 'Medium' },
      ],
    },
  ];
  if (entries.length === 0) body.push({ type: 'TextBlock', text: 'Nothing has happened yet.', isSubtle: true, wrap: true });
  for (const entry of entries) {
    body.push({
      type: 'Container',
      separator: true,
      spacing: 'Small',
      items: [
        { type: 'TextBlock', text: localTime(entry.at), isSubtle: true, size: 'Small', wrap: true },
        {
          type: 'RichTextBlock',
          inlines: [
            { type: 'TextRun', text: entry.authorName ?? 'Service Desk', weight: 'Bolder' },
            { type: 'TextRun', text: ` · ${KIND_LABELS[entry.kind] ?? entry.kind}${entry.visibility === 'internal' ? ' (internal)' : ''}`, isSubtle: true },
          ],
        },
        { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: entry.body }] },
      ],
    });
  }
  body.push(...attachmentsSection(files, { getFiles: `files ${ticket.reference}` }));
  return adaptiveCard(`History of ${ticket.reference}: ${entries.length} entries${files.length > 0 ? `, ${files.length} files` : ''}`, body);
}
