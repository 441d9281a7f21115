import type { TurnContext } from 'botbuilder';
import { z } from 'zod';
import { DIALOG_VERBS, type DialogInfo } from '../../cards/dialog-cards.js';
import { createIssueDialog, ISSUE_DESCRIPTION_MAX, ISSUE_TITLE_MAX } from '../../cards/issue-dialog.js';
import { TRACKER_LABELS, TRACKERS, type TrackerName } from '../../domain/issue-trackers.js';
import type { Ticket } from '../../domain/tickets.js';
import type { Actor } from '../../services/actors.js';
import { callerOf } from '../turn.js';
import type { TurnServices } from './turn-services.js';

/**
 * "Create issue" from a ticket card's More menu: `task/fetch` opens the dialog (teams and projects read
 * from each connected tracker, title and description from the ticket), `task/submit` creates the issue
 * and links it, or shows the dialog again with what was wrong and what was typed.
 */

const opening = z.object({ ticket: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const submitted = opening.extend({
  project: z.string().max(300).default(''),
  title: z.string().max(ISSUE_TITLE_MAX * 10).default(''),
  description: z.string().max(ISSUE_DESCRIPTION_MAX * 10).default(''),
});

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export async function openIssueDialog(context: TurnContext, deps: TurnServices, raw: unknown): Promise<DialogInfo | string> {
  const actor = await deps.actors.identify(callerOf(context.activity));
  const parsed = opening.safeParse(raw ?? {});
  if (!parsed.success) return 'That button sent something I can’t use; nothing was changed.';
  const found = await ticketFor(deps, actor, parsed.data.ticket);
  if (!found.ok) return found.reason;
  const projects = await projectChoices(deps);
  if (typeof projects === 'string') return projects;
  const ticket = found.value;
  return createIssueDialog({ ticket, projects, title: ticket.subject, description: `${ticket.description}\n\nFrom service desk ticket ${ticket.reference}.`.trim() });
}

export async function submitIssueDialog(context: TurnContext, deps: TurnServices, raw: unknown): Promise<DialogInfo | string | null> {
  const actor = await deps.actors.identify(callerOf(context.activity));
  const parsed = submitted.safeParse(raw ?? {});
  if (!parsed.success) return 'That dialog sent something I can’t use; nothing was created.';
  const issues = deps.runner.issues;
  const found = await ticketFor(deps, actor, parsed.data.ticket);
  if (!found.ok || !issues) return found.ok ? 'No issue tracker is connected.' : found.reason;
  const title = parsed.data.title.trim();
  const description = parsed.data.description.trim();
  const again = async (problem: string) => {
    const projects = await projectChoices(deps);
    return typeof projects === 'string' ? projects : createIssueDialog({ ticket: found.value, projects, project: parsed.data.project, title: parsed.data.title, description: parsed.data.description, problem });
  };
  const [tracker, ...rest] = parsed.data.project.split(':');
  const project = rest.join(':');
  if (!TRACKERS.includes(tracker as TrackerName) || !project) return again('Choose the team or project the issue goes to.');
  if (!title) return again('The issue needs a title.');
  if (title.length > ISSUE_TITLE_MAX) return again(`The title is ${title.length} characters; keep it under ${ISSUE_TITLE_MAX}.`);
  if (description.length > ISSUE_DESCRIPTION_MAX) return again(`The description is ${description.length.toLocaleString('en-US')} characters; the most it can hold is ${ISSUE_DESCRIPTION_MAX.toLocaleString('en-US')}.`);
  const result = await issues.create({ actor, surface: 'card' }, found.value.id, { tracker: tracker as TrackerName, project, title, description });
  if (result.ok) {
    deps.logger.debug({ verb: DIALOG_VERBS.createIssue, ticket: result.value.reference }, 'issue created from a dialog');
    return null;
  }
  return result.denied ? capitalize(result.reason) + '.' : again(capitalize(result.reason) + '.');
}

/** The ticket, when the caller may link issues on it (agents of its team). */
async function ticketFor(deps: TurnServices, actor: Actor, id: number): Promise<{ ok: true; value: Ticket } | { ok: false; reason: string }> {
  if (!deps.runner.issues) return { ok: false, reason: 'No issue tracker is connected.' };
  const found = await deps.runner.ticketFor(actor, id, 'status');
  return found.ok ? found : { ok: false, reason: capitalize(found.reason) + '.' };
}

/** Every team (Linear) and project (Jira) the connected trackers offer, or why none could be read. */
async function projectChoices(deps: TurnServices): Promise<Array<{ value: string; title: string }> | string> {
  const issues = deps.runner.issues!;
  const choices: Array<{ value: string; title: string }> = [];
  for (const tracker of issues.configured) {
    try {
      for (const p of await issues.projects(tracker)) choices.push({ value: `${tracker}:${p.id}`, title: `${TRACKER_LABELS[tracker]} · ${p.name}` });
    } catch (error) {
      deps.logger.warn({ tracker, err: (error as Error).message }, 'could not list the tracker’s teams or projects');
    }
  }
  return choices.length > 0 ? choices : 'The issue trackers could not be asked for their teams and projects just now; try again in a minute, or type “link <ticket> <issue>” to link an existing issue.';
}
