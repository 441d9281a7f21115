import type { Ticket } from '../domain/tickets.js';
import { adaptiveCard, literalText, ADAPTIVE_CARD_CONTENT_TYPE, type CardElement } from './adaptive-card.js';
import { DIALOG_VERBS, type DialogInfo } from './dialog-cards.js';

/** The most a new issue's title holds (Jira's summary field: 255 characters). */
export const ISSUE_TITLE_MAX = 255;
export const ISSUE_DESCRIPTION_MAX = 10_000;

export interface IssueDialogInput {
  ticket: Pick<Ticket, 'id' | 'reference' | 'subject'>;
  /** Where the issue can go: `linear:<team id>` or `jira:<project key>`, as "Linear · Platform (ENG)". */
  projects: ReadonlyArray<{ value: string; title: string }>;
  /** What was typed before, when a submit was refused, or the ticket's own words the first time. */
  project?: string;
  title: string;
  description: string;
  problem?: string;
}

/**
 * "Create issue" from a ticket card: where (a Linear team or Jira project), a title and a description,
 * prefilled from the ticket. Opened and submitted like the desk's other dialogs (task/fetch, task/submit).
 */
export function createIssueDialog(input: IssueDialogInput): DialogInfo {
  const body: CardElement[] = [
    literalText({ text: input.ticket.reference, weight: 'Bolder' }, ' · ', input.ticket.subject),
    { type: 'TextBlock', text: 'The issue is linked to this ticket; its state shows on the card and comes back to the ticket.', isSubtle: true, wrap: true, spacing: 'Small' },
  ];
  if (input.problem) body.push(literalText({ text: input.problem, color: 'Warning', weight: 'Bolder' }));
  body.push(
    {
      type: 'Input.ChoiceSet',
      id: 'project',
      label: 'Team or project',
      isRequired: true,
      errorMessage: 'Choose where the issue goes',
      choices: input.projects.map((p) => ({ title: p.title, value: p.value })),
      ...(input.project ? { value: input.project } : input.projects.length === 1 ? { value: input.projects[0]!.value } : {}),
    },
    { type: 'Input.Text', id: 'title', label: 'Title', isRequired: true, errorMessage: 'Give the issue a title', maxLength: ISSUE_TITLE_MAX, value: input.title },
    { type: 'Input.Text', id: 'description', label: 'Description', isMultiline: true, maxLength: ISSUE_DESCRIPTION_MAX, value: input.description },
  );
  const card = adaptiveCard(`Create issue: ${input.ticket.reference}`, body, [
    { type: 'Action.Submit', title: 'Create issue', style: 'positive', data: { verb: DIALOG_VERBS.createIssue, ticket: input.ticket.id } },
  ]);
  return { title: `Create issue · ${input.ticket.reference}`, height: 'large', width: 'medium', card: { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card } };
}
