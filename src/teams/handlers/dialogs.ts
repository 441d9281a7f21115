import type { Application, TurnState } from '@microsoft/teams-ai';
import type { TurnContext } from 'botbuilder';
import { z } from 'zod';
import { DIALOG_VERBS, newTicketDialog, textDialog, type DialogInfo, type DialogVerb, type TextDialogKind } from '../../cards/dialog-cards.js';
import { isAgent, type TicketAction } from '../../domain/roles.js';
import { TICKET_TYPES } from '../../domain/ticket-reference.js';
import { checkStatusChange, DESCRIPTION_MAX, NOTE_MAX, PRIORITIES, SUBJECT_MAX, type Ticket } from '../../domain/tickets.js';
import type { Actor } from '../../services/actors.js';
import type { Result } from '../../services/result.js';
import { callerOf } from '../turn.js';
import { whereOf } from './messages.js';
import type { TurnServices } from './turn-services.js';
import { openIssueDialog, submitIssueDialog } from './issue-dialog.js';

/**
 * Dialogs: `task/fetch` opens one (reply, internal note, resolve with a note, new ticket), `task/submit`
 * carries what was typed. teams-ai routes both on `data.verb` (its default `taskDataFilter`). The change
 * goes through the same ticket service calls as the card buttons (card-actions.ts) and typed commands,
 * so it is checked, recorded and shown on every posted copy of the card the same way.
 *
 * Answers (Microsoft Learn, "Use dialogs with bots",
 * https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/task-modules/task-modules-bots):
 * a dialog (`continue`) to open or to show again with what was wrong and what was typed; a message
 * (`message`) when the person may not do this at all; nothing (an empty 200) to close the dialog once
 * the change is made, the card updating itself like after any change.
 */

/** What a handler returns to teams-ai: a dialog to show, a message to show, or null to close. */
type Answer = DialogInfo | string | null;

const TEXT_KINDS: Record<Exclude<DialogVerb, typeof DIALOG_VERBS.newTicket | typeof DIALOG_VERBS.createIssue>, { kind: TextDialogKind; action: TicketAction }> = {
  [DIALOG_VERBS.reply]: { kind: 'reply', action: 'comment' },
  [DIALOG_VERBS.note]: { kind: 'note', action: 'note' },
  [DIALOG_VERBS.resolve]: { kind: 'resolve', action: 'status' },
};

const ticketId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const opening = z.object({ ticket: ticketId });
const textSubmit = z.object({ ticket: ticketId, text: z.string().max(1_000_000).default('') });
const newTicketSubmit = z.object({
  subject: z.string().max(SUBJECT_MAX * 10).default(''),
  description: z.string().max(DESCRIPTION_MAX * 10).default(''),
  type: z.enum(TICKET_TYPES).catch('incident'),
  priority: z.enum(PRIORITIES).catch('P3'),
});

const newTicketPrefill = z.object({ subject: z.string().max(SUBJECT_MAX).optional(), description: z.string().max(DESCRIPTION_MAX).optional() });

const NOT_FOR_OUTSIDERS = 'This service desk is only for people in its organisation.';
const UNUSABLE = "That button sent something I can't use, so nothing was changed. Try again from a fresh card (type show and the ticket's reference).";

export function registerDialogs(app: Application<TurnState>, deps: TurnServices): void {
  for (const verb of Object.values(DIALOG_VERBS)) {
    app.taskModules.fetch(verb, (context, _state, data) => openDialog(context, deps, verb, data));
    app.taskModules.submit(verb, (context, _state, data) => submitDialog(context, deps, verb, data));
  }
  // A dialog verb we do not know (a card from a newer or older version, or tampered with), or none at
  // all: answered with a message rather than the adapter's 501, which Teams shows as "unable to reach
  // the app". Verbs of other features' dialogs are left to their own routes.
  const unknownDialog = (name: string) => async (context: TurnContext) => {
    const verb = (context.activity.value as { data?: { verb?: unknown } } | undefined)?.data?.verb;
    return context.activity.type === 'invoke' && context.activity.name === name && (typeof verb !== 'string' || verb.startsWith('dialog.'));
  };
  const refuseUnknown = async (context: TurnContext): Promise<string> => {
    deps.logger.warn({ verb: (context.activity.value as { data?: { verb?: unknown } } | undefined)?.data?.verb, activityId: context.activity.id }, 'dialog with an unknown verb');
    return 'This button is no longer supported; nothing was changed. Type help to see what I can do.';
  };
  app.taskModules.fetch(unknownDialog('task/fetch'), refuseUnknown);
  app.taskModules.submit(unknownDialog('task/submit'), refuseUnknown);
}

/** `task/fetch`: the dialog, or why it does not open. */
export async function openDialog(context: TurnContext, deps: TurnServices, verb: DialogVerb, raw: unknown): Promise<DialogInfo | string> {
  const actor = await deps.actors.identify(callerOf(context.activity));
  if (actor.role === 'outsider') return NOT_FOR_OUTSIDERS;
  if (verb === DIALOG_VERBS.createIssue) return openIssueDialog(context, deps, raw);
  if (verb === DIALOG_VERBS.newTicket) {
    // "Edit first" on the offer to open a ticket with a chat message comes with the subject and details filled in.
    const prefill = newTicketPrefill.safeParse(raw ?? {});
    const filled = prefill.success ? { ...(prefill.data.subject ? { subject: prefill.data.subject } : {}), ...(prefill.data.description ? { description: prefill.data.description } : {}) } : {};
    return newTicketDialog({ ...filled, priorities: deps.access.prioritiesFor(actor) });
  }
  const parsed = opening.safeParse(raw ?? {});
  if (!parsed.success) return unusable(context, deps, verb, parsed.error);
  const { kind, action } = TEXT_KINDS[verb];
  const found = await ticketFor(deps, actor, parsed.data.ticket, action, kind);
  if (!found.ok) return capitalize(found.reason) + '.';
  return textDialog(kind, found.value, { byAgent: isAgent(actor.role) });
}

/** `task/submit`: makes the change and closes the dialog, or shows it again with what was wrong. */
export async function submitDialog(context: TurnContext, deps: TurnServices, verb: DialogVerb, raw: unknown): Promise<Answer> {
  const actor = await deps.actors.identify(callerOf(context.activity));
  if (actor.role === 'outsider') return NOT_FOR_OUTSIDERS;
  if (verb === DIALOG_VERBS.newTicket) return submitNewTicket(context, deps, actor, raw);
  if (verb === DIALOG_VERBS.createIssue) return submitIssueDialog(context, deps, raw);

  const parsed = textSubmit.safeParse(raw ?? {});
  if (!parsed.success) return unusable(context, deps, verb, parsed.error);
  const { kind, action } = TEXT_KINDS[verb];
  const id = parsed.data.ticket;
  const text = parsed.data.text.trim();
  const again = async (problem: string): Promise<Answer> => {
    // Shown again only to someone who may do this: a refusal is a message, and says nothing of the ticket.
    const found = await deps.runner.ticketFor(actor, id, action);
    return found.ok ? textDialog(kind, found.value, { byAgent: isAgent(actor.role), text: parsed.data.text, problem }) : capitalize(found.reason) + '.';
  };
  if (!text) return again(kind === 'resolve' ? 'Say how it was resolved: the requester reads it.' : 'Nothing was written, so nothing was sent.');
  if (text.length > NOTE_MAX) return again(`That is ${text.length.toLocaleString('en-US')} characters; the most a ${kind === 'note' ? 'note' : 'reply'} can hold is ${NOTE_MAX.toLocaleString('en-US')}.`);

  const ctx = { actor, surface: 'card' as const };
  const result =
    kind === 'resolve'
      ? await deps.tickets.changeStatus(ctx, id, 'resolved', text)
      : await deps.runner.comment(ctx, id, text, kind === 'note' ? 'internal' : 'public');
  if (result.ok) {
    deps.logger.debug({ verb, ticket: result.value.reference, activityId: context.activity.id }, 'dialog submitted');
    return null;
  }
  if (result.denied) return capitalize(result.reason) + '.';
  // Not refused, just not possible now (resolved meanwhile, changed at the same moment): keep the text.
  return again(capitalize(result.reason) + '.');
}

async function submitNewTicket(context: TurnContext, deps: TurnServices, actor: Actor, raw: unknown): Promise<Answer> {
  const parsed = newTicketSubmit.safeParse(raw ?? {});
  if (!parsed.success) return unusable(context, deps, DIALOG_VERBS.newTicket, parsed.error);
  const input = { ...parsed.data, subject: parsed.data.subject.trim() };
  const priorities = deps.access.prioritiesFor(actor);
  const again = (problem: string) => newTicketDialog({ ...input, problem, priorities });
  if (!input.subject) return again('A ticket needs a subject.');
  if (input.subject.length > SUBJECT_MAX) return again(`The subject is ${input.subject.length} characters; keep it under ${SUBJECT_MAX} and put the rest in the details.`);
  if (input.description.length > DESCRIPTION_MAX) return again(`The details are ${input.description.length.toLocaleString('en-US')} characters; the most they can hold is ${DESCRIPTION_MAX.toLocaleString('en-US')}.`);
  const where = await whereOf(context, deps);
  // The same road as "new …" typed or the form's button: routing, posting the card, triage and P1 channels.
  const reply = await deps.runner.create(actor, where, deps.helpersFor(context, actor), input, 'card');
  if (reply.kind === 'card' && reply.tone === 'warning') return again(reply.summary);
  // In a requester's personal chat, what they write next is about this ticket.
  if (reply.kind === 'card' && reply.ticketId !== undefined && where.kind === 'personal' && actor.role === 'requester') await deps.requests?.setFocus(where.conversationRefId, actor.person.id, reply.ticketId);
  deps.logger.debug({ verb: DIALOG_VERBS.newTicket, activityId: context.activity.id }, 'dialog submitted');
  return null;
}

/** The ticket as this person may act on it through this dialog; a resolved or closed ticket is not resolved again. */
async function ticketFor(deps: TurnServices, actor: Actor, id: number, action: TicketAction, kind: TextDialogKind): Promise<Result<Ticket>> {
  const found = await deps.runner.ticketFor(actor, id, action);
  if (!found.ok || kind !== 'resolve') return found;
  const blocked = checkStatusChange(found.value.status, 'resolved');
  return blocked ? { ok: false, reason: `${found.value.reference} can't be set to resolved: ${blocked}` } : found;
}

function unusable(context: TurnContext, deps: TurnServices, verb: DialogVerb, error: z.ZodError): string {
  deps.logger.warn({ verb, problems: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`), activityId: context.activity.id }, 'dialog with invalid data');
  return UNUSABLE;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
