import type { Application, TurnState } from '@microsoft/teams-ai';
import type { TaskModuleTaskInfo, TurnContext } from 'botbuilder';
import { ADAPTIVE_CARD_CONTENT_TYPE } from '../../cards/adaptive-card.js';
import { ticketFromMessageDialog, type DialogChoice, type TicketFromMessageDialogData } from '../../cards/ticket-from-message-dialog.js';
import { isAgent } from '../../domain/roles.js';
import { descriptionRoom, draftDescription, messageLinksText, readTeamsMessage, type TeamsMessage } from '../../domain/teams-message.js';
import { storeTeamsFiles, type TeamsAttachment } from '../teams-files.js';
import { TICKET_TYPES } from '../../domain/ticket-reference.js';
import { DESCRIPTION_MAX, PRIORITIES, SUBJECT_MAX, type Priority } from '../../domain/tickets.js';
import type { Actor, Person } from '../../services/actors.js';
import { TicketFromMessage, type CardPlace, type MessagePlace } from '../../services/ticket-from-message.js';
import type { Db } from '../../store/database.js';
import { channelConversationId } from '../conversation.js';
import { lookupMember } from '../members.js';
import { callerOf, conversationKind, teamIdOf } from '../turn.js';
import type { TurnServices } from './turn-services.js';

/**
 * "Create ticket" on any message: the action message extension declared in appPackage/manifest.json
 * (`composeExtensions[0].commands`, context message, compose and commandBox, `fetchTask: true`).
 * `composeExtension/fetchTask` answers a dialog prefilled from the message; `composeExtension/submitAction`
 * checks it and opens the ticket, or shows the dialog again with what is wrong
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/messaging-extensions/how-to/action-commands/define-action-command).
 * Teams waits 5 seconds for either answer; both only read and write our own database, never Teams,
 * except to look up a requester the desk has not met.
 */

/** The command id in the manifest. */
export const CREATE_TICKET_COMMAND = 'createTicket';

/** The requester choice meaning "the person filing". */
const ME = 'me';

export interface MessageActionDeps extends TurnServices {
  db: Db;
  clock: () => number;
  /** Wakes the outbox worker after a commit (else it sees the new cards at its next look). */
  onEnqueued?: () => void;
}

export function registerMessageActions(app: Application<TurnState>, deps: MessageActionDeps): void {
  const service = new TicketFromMessage({ db: deps.db, tickets: deps.tickets, conversations: deps.conversations, clock: deps.clock, logger: deps.logger, ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}) });

  app.messageExtensions.fetchTask(CREATE_TICKET_COMMAND, async (context) =>
    guarded(context, deps, async () => {
      const actor = await deps.actors.identify(callerOf(context.activity));
      if (actor.role === 'outsider') return OUTSIDER;
      const message = messageOf(context);
      const links = message ? messageLinksText(message) : '';
      const room = descriptionRoom(links);
      return dialog(deps, actor, message, {
        subject: message?.subject ?? '',
        description: message ? draftDescription(message, room) : '',
        type: 'incident',
        priority: 'P3',
        requester: message?.author && message.author.aadObjectId !== actor.person.aadObjectId ? `aad:${message.author.aadObjectId}` : ME,
      });
    }),
  );

  app.messageExtensions.submitAction(CREATE_TICKET_COMMAND, async (context, _state, data) =>
    guarded(context, deps, async () => {
      const actor = await deps.actors.identify(callerOf(context.activity));
      if (actor.role === 'outsider') return OUTSIDER;
      const message = messageOf(context);
      // What the dialog's inputs sent back (Action.Submit merges them into `data`); anything else is ignored.
      const fields: Record<string, unknown> = data !== null && typeof data === 'object' && !Array.isArray(data) ? data : {};
      const text = (v: unknown) => (typeof v === 'string' ? v : '');
      const form = {
        subject: text(fields.subject).replace(/\s+/g, ' ').trim(),
        description: text(fields.description).replace(/\r\n?/g, '\n'),
        type: (TICKET_TYPES as readonly string[]).includes(text(fields.type)) ? (text(fields.type) as (typeof TICKET_TYPES)[number]) : undefined,
        priority: (PRIORITIES as readonly string[]).includes(text(fields.priority)) ? (text(fields.priority) as Priority) : undefined,
        requester: text(fields.requester) || ME,
      };
      const room = descriptionRoom(message ? messageLinksText(message) : '');
      const problems: string[] = [];
      if (!form.subject) problems.push('A ticket needs a subject.');
      else if (form.subject.length > SUBJECT_MAX) problems.push(`The subject is longer than ${SUBJECT_MAX} characters; shorten it and put the rest in the details.`);
      if (form.description.length > room) problems.push(`The details are ${form.description.length - room} characters too long (at most ${room}${room < DESCRIPTION_MAX ? ', as the message’s links take the rest' : ''}).`);
      if (!form.type) problems.push('Pick whether something is broken (incident) or someone needs something (request).');
      const allowed = deps.access.prioritiesFor(actor);
      if (!form.priority) problems.push('Pick a priority.');
      else if (!allowed.includes(form.priority)) problems.push(`You can give a new ticket at most ${allowed[0]}; agents set ${form.priority} when they triage it.`);
      const choices = requesterChoices(actor, message);
      const chosen = choices.find((c) => c.value === form.requester);
      if (!chosen) problems.push('Pick the requester from the list.');
      else if (chosen.aadObjectId !== undefined) {
        const refused = service.refusalToFileFor(actor, { self: false, name: chosen.name });
        if (refused) problems.push(refused);
      }
      const again = { subject: form.subject, description: form.description, type: form.type ?? 'incident', priority: form.priority ?? 'P3', requester: form.requester };
      if (problems.length > 0 || !chosen) return dialog(deps, actor, message, again, problems);
      const requester = await resolveRequester(context, deps, service, actor, chosen);
      if (!requester.ok) return dialog(deps, actor, message, again, [requester.reason]);

      const result = await service.create(actor, {
        subject: form.subject,
        description: form.description,
        type: form.type!,
        priority: form.priority!,
        requester: requester.person,
        message,
        place: placeOf(context),
      });
      if (!result.ok) return dialog(deps, actor, message, again, [capitalize(result.reason.endsWith('.') ? result.reason : `${result.reason}.`)]);
      await keepMessageFiles(context, deps, result.value.ticket.id, actor);
      return answer(result.notice, result.value.ticket.reference, result.value.cardIn, result.value.triage);
    }),
  );
}

const OUTSIDER = 'This service desk is only for people in its organisation.';

/**
 * The message's files go on the ticket as any message's do (storeTeamsFiles): shared files as their
 * SharePoint links (only TEAMS_FILE_HOSTS), from its attachments and the links in its HTML. Never a
 * reason to fail the answer: the ticket exists, and its description lists the files anyway.
 */
async function keepMessageFiles(context: TurnContext, deps: MessageActionDeps, ticketId: number, actor: Actor): Promise<void> {
  if (!deps.fileServices) return;
  const payload = (context.activity.value as { messagePayload?: { attachments?: unknown; body?: { contentType?: unknown; content?: unknown } } } | undefined)?.messagePayload;
  const attachments = [
    ...(Array.isArray(payload?.attachments) ? (payload.attachments as TeamsAttachment[]) : []),
    ...(payload?.body?.contentType === 'html' && typeof payload.body.content === 'string' ? [{ contentType: 'text/html', content: payload.body.content }] : []),
  ];
  try {
    await storeTeamsFiles(context, deps.fileServices, ticketId, attachments, { authorId: actor.person.id, visibility: 'public' });
  } catch (error) {
    deps.logger.warn({ err: error, ticketId }, 'the files of a message turned into a ticket could not be kept');
  }
}

/** The message the action was started on (undefined from the compose box or command box). */
function messageOf(context: TurnContext): TeamsMessage | undefined {
  return readTeamsMessage((context.activity.value as { messagePayload?: unknown } | undefined)?.messagePayload);
}

function placeOf(context: TurnContext): MessagePlace {
  const activity = context.activity;
  const kind = conversationKind(activity);
  const id = activity.conversation?.id ?? '';
  return { conversationId: kind === 'channel' ? channelConversationId(id) : id, kind, teamId: teamIdOf(activity) };
}

/** A requester the dialog offers: the caller (no object id needed), or someone from the message. */
interface RequesterChoice extends DialogChoice {
  name: string;
  aadObjectId?: string;
}

/** Who the ticket can be for: the message's author and the people it mentions, and the caller. */
function requesterChoices(actor: Actor, message: TeamsMessage | undefined): RequesterChoice[] {
  const choices: RequesterChoice[] = [{ value: ME, title: `You (${actor.person.name})`, name: actor.person.name }];
  const people = [...(message?.author ? [{ ...message.author, role: 'wrote the message' }] : []), ...(message?.mentions ?? []).map((m) => ({ ...m, role: 'mentioned' }))];
  for (const person of people) {
    const value = `aad:${person.aadObjectId}`;
    if (person.aadObjectId === actor.person.aadObjectId || choices.some((c) => c.value === value)) continue;
    choices.push({ value, title: `${person.name} (${person.role})`, name: person.name, aadObjectId: person.aadObjectId });
  }
  return choices;
}

async function resolveRequester(
  context: TurnContext,
  deps: MessageActionDeps,
  service: TicketFromMessage,
  actor: Actor,
  chosen: RequesterChoice,
): Promise<{ ok: true; person: Person } | { ok: false; reason: string }> {
  if (chosen.aadObjectId === undefined) return { ok: true, person: actor.person };
  const known = await service.knownPerson(chosen.aadObjectId);
  if (known) return { ok: true, person: known };
  // Someone the desk has not met: Teams' roster answers by Entra object id too
  // (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/get-teams-context#get-single-member-details).
  const seen = await lookupMember(context, chosen.aadObjectId, deps.logger);
  if (!seen) return { ok: false, reason: `I couldn't look ${chosen.name} up in this conversation, so I can't file the ticket for them yet. File it for yourself, or ask them to say hello to me first.` };
  return { ok: true, person: (await deps.actors.identify(seen)).person };
}

async function dialog(
  deps: MessageActionDeps,
  actor: Actor,
  message: TeamsMessage | undefined,
  form: Pick<TicketFromMessageDialogData, 'subject' | 'description' | 'type' | 'priority' | 'requester'>,
  problems: string[] = [],
): Promise<TaskModuleTaskInfo> {
  const links = message ? messageLinksText(message) : '';
  const priorities = deps.access.prioritiesFor(actor);
  const choices = requesterChoices(actor, message);
  const card = ticketFromMessageDialog({
    fromMessage: message !== undefined,
    ...form,
    requester: choices.some((c) => c.value === form.requester) ? form.requester : ME,
    priority: priorities.includes(form.priority) ? form.priority : priorities.includes('P3') ? 'P3' : priorities[0]!,
    descriptionMax: descriptionRoom(links),
    priorities,
    requesters: choices.map((c) => ({ value: c.value, title: c.title })),
    ...(isAgent(actor.role) ? {} : { requesterHint: 'Only support agents can file a ticket for someone else.' }),
    files: message?.files ?? [],
    link: message?.link ?? null,
    problems,
  });
  return { title: 'Create ticket', width: 'medium', height: 'large', card: { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card } };
}

/** What the person who filed it reads once the dialog closes: the ticket, and where its card is. */
function answer(notice: string, reference: string, cardIn: CardPlace, triage: boolean): string {
  const andTriage = triage ? ' and to the triage channel' : '';
  switch (cardIn) {
    case 'reply':
      return `${notice}. Its card is posted as a reply to the message${triage ? ', and in the triage channel' : ''}.`;
    case 'conversation':
      return `${notice}. Its card is posted in this conversation${triage ? ', and in the triage channel' : ''}.`;
    case 'personal':
      return `${notice}. I'm not in this conversation, so its card went to your chat with me${andTriage}.`;
    case 'triage':
      return `${notice}. I'm not in this conversation, so its card went to the triage channel; type “show ${reference}” in a chat with me to follow it.`;
    case 'nowhere':
      return `${notice}. I'm not in this conversation; type “show ${reference}” in a chat with me to follow it.`;
  }
}

/** A failure answers with a clear message, never a broken dialog; it is logged for whoever looks. */
async function guarded<T>(context: TurnContext, deps: Pick<TurnServices, 'logger'>, work: () => Promise<T>): Promise<T | string> {
  try {
    return await work();
  } catch (error) {
    deps.logger.error({ err: error, activityId: context.activity.id, name: context.activity.name }, 'message action failed');
    return 'Sorry, something went wrong on my side. Please try again in a moment.';
  }
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
