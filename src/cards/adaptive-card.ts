/**
 * The few Adaptive Card shapes our builders produce, and how a card travels in a message. Cards are
 * plain data: builders are pure functions, tested as JSON and against the official 1.5 schema.
 */

export const CARD_VERSION = '1.5';
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

export type CardElement = Record<string, unknown> & { type: string };

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  version: typeof CARD_VERSION;
  /** Read by clients that cannot render the card, and by screen readers. */
  fallbackText: string;
  body: CardElement[];
  actions?: CardElement[];
  msteams?: { width?: 'Full'; entities?: unknown[] };
}

export function adaptiveCard(fallbackText: string, body: CardElement[], actions?: CardElement[]): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    fallbackText,
    body,
    ...(actions && actions.length > 0 ? { actions } : {}),
    msteams: { width: 'Full' },
  };
}

/**
 * A message carrying one card. `summary` is what Teams shows in the notification toast and the chat
 * list; without it people read "Sent a card".
 */
export function cardMessage(card: AdaptiveCard, summary: string): Record<string, unknown> {
  return {
    type: 'message',
    summary,
    attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card }],
  };
}

export interface TextRun {
  text: string;
  weight?: 'Bolder';
  size?: 'Small' | 'Medium' | 'Large';
  isSubtle?: boolean;
  color?: 'Good' | 'Warning' | 'Attention' | 'Accent';
}

/**
 * Text that is shown exactly as given. TextBlock renders a subset of Markdown, so `**`, `[x](y)` or `#`
 * in a user's words would change how a card looks; the TextRuns of a RichTextBlock are never parsed.
 * Everything that came from a person (names, subjects, notes, email) goes through here.
 */
export function literalText(...runs: Array<string | TextRun>): CardElement {
  return {
    type: 'RichTextBlock',
    inlines: runs.map((run) => (typeof run === 'string' ? { type: 'TextRun', text: run } : { type: 'TextRun', ...run })),
  };
}
