import type { Ticket } from '../domain/tickets.js';
import { adaptiveCard, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { localTime } from './fields.js';
import { reportSection, type ReportCardData } from './report-card.js';

export interface DigestCardData {
  /** "Your day" for a person, "The team's day" for a channel. */
  title: string;
  /** The recipient's date, e.g. "Mon 23 Nov". */
  day: string;
  dueToday: ReadonlyArray<{ ticket: Ticket; dueAt: number }>;
  breachedYesterday: readonly Ticket[];
  /** SLA attainment and the open-ticket trend, shown under the lists. */
  report?: ReportCardData;
}

const MAX_ROWS = 15;

/** The morning summary: what is due today, what breached yesterday, and how the SLAs have been kept. */
export function digestCard(data: DigestCardData): AdaptiveCard {
  const body: CardElement[] = [{ type: 'TextBlock', text: `${data.title} · ${data.day}`, weight: 'Bolder', size: 'Medium', wrap: true }];
  const section = (heading: string, rows: CardElement[], total: number) => {
    body.push({ type: 'TextBlock', text: `${heading} (${total})`, weight: 'Bolder', separator: true, wrap: true });
    if (total === 0) body.push({ type: 'TextBlock', text: 'Nothing.', isSubtle: true, spacing: 'None', wrap: true });
    body.push(...rows);
    if (total > rows.length) body.push({ type: 'TextBlock', text: `…and ${total - rows.length} more`, isSubtle: true, wrap: true });
  };
  const ticketLine = (ticket: Ticket): CardElement => ({
    type: 'RichTextBlock',
    spacing: 'Small',
    inlines: [
      { type: 'TextRun', text: ticket.reference, weight: 'Bolder', ...(ticket.priority === 'P1' ? { color: 'Attention' } : {}) },
      { type: 'TextRun', text: ` · ${ticket.priority} · ` },
      { type: 'TextRun', text: ticket.subject },
    ],
  });
  section(
    'Due today',
    data.dueToday.slice(0, MAX_ROWS).flatMap(({ ticket, dueAt }) => [ticketLine(ticket), { type: 'TextBlock', text: `due ${localTime(dueAt)}`, isSubtle: true, size: 'Small', spacing: 'None', wrap: true }]),
    data.dueToday.length,
  );
  section('Breached yesterday', data.breachedYesterday.slice(0, MAX_ROWS).map(ticketLine), data.breachedYesterday.length);
  if (data.report) body.push(...reportSection(data.report));
  return adaptiveCard(`${data.title}: ${data.dueToday.length} due today, ${data.breachedYesterday.length} breached yesterday`, body);
}
