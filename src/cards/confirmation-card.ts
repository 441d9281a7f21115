import { adaptiveCard, type AdaptiveCard } from './adaptive-card.js';

/** A short answer to a change: what happened, or why nothing did. Text is shown literally. */
export function confirmationCard(text: string, tone: 'good' | 'warning' = 'good'): AdaptiveCard {
  return adaptiveCard(text, [
    {
      type: 'RichTextBlock',
      inlines: [
        { type: 'TextRun', text: tone === 'good' ? '✓ ' : '! ', weight: 'Bolder', color: tone === 'good' ? 'Good' : 'Warning' },
        { type: 'TextRun', text },
      ],
    },
  ]);
}
