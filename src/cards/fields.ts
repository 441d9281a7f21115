import { literalText, type CardElement, type TextRun } from './adaptive-card.js';

/** A labelled row: the label is ours, the value may be a person's words and is shown literally. */
export function field(label: string, ...value: Array<string | TextRun>): CardElement {
  return {
    type: 'ColumnSet',
    spacing: 'Small',
    columns: [
      { type: 'Column', width: '110px', items: [{ type: 'TextBlock', text: label, isSubtle: true, wrap: true }] },
      { type: 'Column', width: 'stretch', items: [literalText(...value)] },
    ],
  };
}

/**
 * A timestamp the Teams client shows in the reader's own time zone (Adaptive Cards DATE/TIME
 * functions), e.g. "Sun, Nov 22, 2026 14:03".
 */
export function localTime(epochMs: number): string {
  const iso = new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `{{DATE(${iso}, SHORT)}} {{TIME(${iso})}}`;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
