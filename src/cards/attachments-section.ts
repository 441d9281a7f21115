import { adaptiveCard, type AdaptiveCard, type CardElement } from './adaptive-card.js';

/**
 * A ticket's files as card elements: name, type and size, and how to get each one. The same section
 * goes on the ticket card, in its history and in the answer to `files INC-42`. Links are personal
 * (signed for one person), so a card seen by many carries a "Get files" button instead, which asks the
 * bot in the viewer's own name.
 */

export interface AttachmentView {
  /** 1-based, as `file INC-42 <n>` counts. */
  number: number;
  name: string;
  contentType: string;
  size: number;
  internal: boolean;
  /** Where to open it: a signed download link for this viewer, or the SharePoint address of a shared file. */
  url?: string;
  /** Why there is nothing to open (kept as a link in the mailbox, deleted by retention). */
  note?: string;
}

/** The elements listing `files`; none when there are none. `getFiles` adds a button that asks for them (e.g. `files INC-42`). */
export function attachmentsSection(files: readonly AttachmentView[], options: { getFiles?: string } = {}): CardElement[] {
  if (files.length === 0) return [];
  const rows: CardElement[] = files.slice(0, MAX_LISTED).map((f) => ({
    type: 'ColumnSet',
    spacing: 'Small',
    columns: [
      { type: 'Column', width: 'auto', items: [{ type: 'TextBlock', text: `${f.number}.`, isSubtle: true }] },
      {
        type: 'Column',
        width: 'stretch',
        items: [
          { type: 'TextBlock', text: `${f.name}${f.internal ? ' (internal)' : ''}`, wrap: true, weight: 'Bolder' },
          { type: 'TextBlock', text: `${f.contentType} · ${formatSize(f.size)}${f.note ? ` · ${f.note}` : ''}`, isSubtle: true, size: 'Small', wrap: true, spacing: 'None' },
        ],
      },
      ...(f.url ? [{ type: 'Column', width: 'auto', verticalContentAlignment: 'Center', items: [{ type: 'ActionSet', actions: [{ type: 'Action.OpenUrl', title: 'Open', url: f.url }] }] }] : []),
    ],
  }));
  const more = files.length > MAX_LISTED ? [{ type: 'TextBlock', text: `and ${files.length - MAX_LISTED} more`, isSubtle: true, size: 'Small' }] : [];
  const button = options.getFiles
    ? [{ type: 'ActionSet', actions: [{ type: 'Action.Submit', title: 'Get files', data: { msteams: { type: 'messageBack', text: options.getFiles, displayText: options.getFiles } } }] }]
    : [];
  return [
    { type: 'TextBlock', text: `Files (${files.length})`, weight: 'Bolder', separator: true, spacing: 'Medium' },
    ...rows,
    ...more,
    ...button,
  ];
}

/** The answer to `files INC-42`: the list with this person's links. */
export function filesCard(reference: string, files: readonly AttachmentView[], ttlText: string): AdaptiveCard {
  const body: CardElement[] =
    files.length === 0
      ? [{ type: 'TextBlock', text: `${reference} has no files.`, wrap: true }]
      : [
          { type: 'TextBlock', text: `Files on ${reference}`, weight: 'Bolder', size: 'Medium', wrap: true },
          { type: 'TextBlock', text: `Your links work for ${ttlText}, for you only. “file ${reference} <number>” sends one here.`, isSubtle: true, size: 'Small', wrap: true },
          ...attachmentsSection(files).slice(1),
        ];
  return adaptiveCard(files.length === 0 ? `${reference} has no files` : `Files on ${reference}: ${files.map((f) => f.name).join(', ')}`, body);
}

const MAX_LISTED = 20;

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
