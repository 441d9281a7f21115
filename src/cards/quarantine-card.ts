import { adaptiveCard, literalText, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { field, localTime, truncate } from './fields.js';

/** A received email the desk stopped trying to read, as the triage channel is told about it. */
export interface QuarantineCardData {
  /** The quarantine id admins name in `npm run mail -- retry <id>`. */
  id: number;
  from: string | null;
  subject: string;
  receivedAt: number | null;
  reason: string;
  attempts: number;
}

/**
 * Tells the triage channel that an email was set aside instead of becoming a ticket, and what an admin
 * can do about it. The card has no buttons: retrying or dropping is an operator's command, run where
 * the service's database is.
 */
export function quarantineCard(data: QuarantineCardData): AdaptiveCard {
  const body: CardElement[] = [
    literalText({ text: 'An email was quarantined', weight: 'Bolder', size: 'Medium', color: 'Warning' }),
    { type: 'TextBlock', text: 'The desk could not read it, so it did not become a ticket; the mail after it is read as usual.', wrap: true, isSubtle: true },
    field('From', data.from ?? '(unknown sender)'),
    field('Subject', truncate(data.subject || '(no subject)', 200)),
    // A TextBlock, not a literal run: Teams expands DATE/TIME there, in the reader's time zone.
    ...(data.receivedAt !== null ? [{ type: 'TextBlock', text: `Received ${localTime(data.receivedAt)}`, isSubtle: true, size: 'Small', wrap: true }] : []),
    field('Why', truncate(data.reason, 300)),
    field('Attempts', String(data.attempts)),
    literalText({ text: 'An admin can read it again or drop it:', weight: 'Bolder' }),
    literalText(`npm run mail -- retry ${data.id}`),
    literalText(`npm run mail -- drop ${data.id}`),
  ];
  return adaptiveCard(`An email was quarantined: ${truncate(data.subject || '(no subject)', 80)} (retry with npm run mail -- retry ${data.id})`, body);
}
