import type { CardElement } from './adaptive-card.js';
import type { IssueView } from '../domain/issue-trackers.js';
import { TRACKER_LABELS } from '../domain/issue-trackers.js';
import { truncate } from './fields.js';

/** How each state category reads on the card: done and canceled stand out from work in progress. */
const CATEGORY_COLORS = { done: 'Good', canceled: 'Warning', started: 'Accent', todo: undefined } as const;

/**
 * "Linked issues" on the agents' ticket card: each issue's key (opening it in Linear or Jira), its state
 * and title. Text runs, not markdown, so a title can't inject links; the key's select action opens the
 * issue (TextRun.selectAction, Adaptive Cards 1.2, https://adaptivecards.io/explorer/TextRun.html).
 */
export function issuesSection(issues: readonly IssueView[]): CardElement[] {
  if (issues.length === 0) return [];
  return [
    { type: 'TextBlock', text: 'Linked issues', weight: 'Bolder', separator: true, spacing: 'Medium', wrap: true },
    ...issues.map((issue): CardElement => {
      const color = CATEGORY_COLORS[issue.category];
      return {
        type: 'RichTextBlock',
        spacing: 'Small',
        inlines: [
          { type: 'TextRun', text: `${TRACKER_LABELS[issue.tracker]} ${issue.key}`, weight: 'Bolder', ...(/^https?:\/\//.test(issue.url) ? { selectAction: { type: 'Action.OpenUrl', url: issue.url } } : {}) },
          { type: 'TextRun', text: ' · ' },
          { type: 'TextRun', text: issue.state, weight: 'Bolder', ...(color ? { color } : {}) },
          { type: 'TextRun', text: ` · ${truncate(issue.title, 120)}` },
        ],
      };
    }),
  ];
}
