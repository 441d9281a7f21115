import type { Application, TurnState } from '@microsoft/teams-ai';
import type { Activity, TurnContext } from 'botbuilder';
import { parseCommand } from '../../domain/commands.js';
import { isAgent } from '../../domain/roles.js';
import type { Actor } from '../../services/actors.js';
import { confirmationCard } from '../../cards/confirmation-card.js';
import { conversationOf, replyActivity, type Reply, type TurnHelpers } from '../command-runner.js';
import { conversationToRemember } from '../conversation.js';
import { callerOf, commandTextOf, conversationKind, mentionsBot, teamIdOf, teamNameOf, threadRootOf, type Where } from '../turn.js';
import type { TurnServices } from './turn-services.js';
import { parseFileCommand } from '../../domain/file-command.js';
import { hasFiles, storeTeamsFiles, type TeamsAttachment } from '../teams-files.js';
import { answerFileCommand, registerFileConsent, type FileServices } from './files.js';
import { answerFreeText, readsFreeText } from './free-text.js';

/**
 * Typed messages: commands in personal chats and, when the bot is @mentioned, in channels and group
 * chats; replies in the thread under a ticket's card, which become notes on that ticket; and
 * Action.Submit presses from clients without Universal Actions (a message with a `value`, no text).
 */
export function registerMessageHandlers(
  app: Application<TurnState>,
  deps: TurnServices & { onCardSubmit: (context: TurnContext, value: Record<string, unknown>) => Promise<void> },
): void {
  if (deps.fileServices) registerFileConsent(app, { ...deps, fileServices: deps.fileServices });
  app.message(
    // A function selector is used as is, for every activity type: say "messages" explicitly.
    async (context) => context.activity.type === 'message',
    async (context) => {
      const activity = context.activity;
      if (!activity.text && activity.value && typeof activity.value === 'object' && !Array.isArray(activity.value)) {
        await deps.onCardSubmit(context, activity.value as Record<string, unknown>);
        return;
      }
      const where = await whereOf(context, deps);
      const addressed = where.kind === 'personal' || mentionsBot(activity);
      // Channel chatter that is neither for the bot nor under a ticket is none of our business.
      if (!addressed && where.threadTicketId === undefined) return;

      const actor = await deps.actors.identify(callerOf(activity));
      if (actor.role === 'outsider') {
        await send(context, deps, { kind: 'card', card: confirmationCard('This service desk is only for people in its organisation.', 'warning'), summary: 'Not available' }, where);
        return;
      }
      const text = commandTextOf(activity);
      const fileCommand = deps.fileServices && addressed ? parseFileCommand(text) : undefined;
      if (fileCommand && deps.fileServices) {
        await answerFileCommand(context, { ...deps, fileServices: deps.fileServices }, actor, where, fileCommand);
        return;
      }
      const files = deps.fileServices && hasFiles(activity.attachments as TeamsAttachment[] | undefined, deps.fileServices.options) ? deps.fileServices : undefined;
      const parsed = parseCommand(text);
      if (where.threadTicketId !== undefined && (!addressed || !parsed.ok)) {
        // A screenshot alone under a ticket's card is still a note: it says what it brought.
        const noteText = text.trim() || (files ? `Sent ${fileNames(activity.attachments as TeamsAttachment[])}` : text);
        const { reply, visibility } = await threadNote(deps, actor, where, noteText, deps.helpersFor(context, actor));
        await send(context, deps, reply, where);
        if (files) await keepFiles(context, deps, files, reply, where.threadTicketId, actor, visibility, where);
        return;
      }
      // A requester's own words in their personal chat are a request, not a mistyped command; and their
      // "status" is about their ticket (the desk's health is for admins).
      if ((!parsed.ok || parsed.command.kind === 'status') && readsFreeText(deps, actor, where)) {
        await answerFreeText(context, deps, actor, where, text, files, (reply) => send(context, deps, reply, where));
        return;
      }
      if (!parsed.ok) {
        const message = parsed.suggestion ? `${parsed.error} Did you mean “${parsed.suggestion}”? Type help for everything I can do.` : `${parsed.error} Type help for everything I can do.`;
        await send(context, deps, { kind: 'card', card: confirmationCard(message, 'warning'), summary: message }, where);
        return;
      }
      const reply = await deps.runner.run(actor, parsed.command, where, deps.helpersFor(context, actor));
      await send(context, deps, reply, where);
      const kind = parsed.command.kind;
      // The ticket a requester just opened, looked at or wrote on is what their next words are about.
      const discussed = reply.kind === 'card' && reply.tone !== 'warning' ? (reply.ticketId ?? reply.ticketCard?.ticketId) : undefined;
      if (discussed !== undefined && readsFreeText(deps, actor, where)) await deps.requests.setFocus(where.conversationRefId, actor.person.id, discussed);
      if (files && (kind === 'new' || kind === 'reply' || kind === 'note') && reply.kind === 'card') {
        await keepFiles(context, deps, files, reply, reply.ticketId, actor, kind === 'note' ? 'internal' : 'public', where);
      }
    },
  );
}

/**
 * Keeps the message's files on the ticket the command just changed (only when it succeeded: the
 * person may write on that ticket), and says what was kept and what was not.
 */
async function keepFiles(context: TurnContext, deps: Pick<TurnServices, 'cardCopies' | 'logger'>, files: FileServices, reply: Reply, ticketId: number | undefined, actor: Actor, visibility: 'public' | 'internal', where: Where): Promise<void> {
  if (reply.kind !== 'card' || reply.tone === 'warning' || ticketId === undefined) return;
  let result: Awaited<ReturnType<typeof storeTeamsFiles>>;
  try {
    result = await storeTeamsFiles(context, files, ticketId, context.activity.attachments as TeamsAttachment[] | undefined, { authorId: actor.person.id, visibility });
  } catch (error) {
    // The ticket change is done and answered; only the files are missing, and the person hears so.
    deps.logger.warn({ err: error, ticketId }, 'files of a message could not be kept');
    result = { kept: [], failed: [{ name: fileNames((context.activity.attachments ?? []) as TeamsAttachment[]), reason: 'they could not be read; send them again' }] };
  }
  const kept = result.kept.map((f) => f.name);
  const failed = result.failed.map((f) => `${f.name} (${f.reason})`);
  if (kept.length === 0 && failed.length === 0) return;
  const text = [kept.length > 0 ? `Kept on the ticket${visibility === 'internal' ? ' (internal)' : ''}: ${kept.join(', ')}.` : '', failed.length > 0 ? `Not kept: ${failed.join('; ')}.` : ''].filter(Boolean).join(' ');
  await send(context, deps, { kind: 'card', card: confirmationCard(text, failed.length > 0 ? 'warning' : 'good'), summary: text }, where);
}

function fileNames(attachments: readonly TeamsAttachment[]): string {
  const names = attachments.filter((a) => a.contentType !== 'text/html').map((a) => a.name || (String(a.contentType).startsWith('image/') ? 'an image' : 'a file'));
  return names.join(', ') || 'a file';
}

/**
 * A reply under a ticket's card: an internal note, or public when it starts with "reply" (requesters
 * always public). Where not everyone present is an agent (a group chat, a channel outside the desk),
 * whatever an agent writes there is read by everyone, so it is a public reply, and the bot says so.
 */
async function threadNote(deps: Pick<TurnServices, 'runner' | 'access'>, actor: Actor, where: Where, text: string, helpers: TurnHelpers): Promise<{ reply: Reply; visibility: 'public' | 'internal' }> {
  const match = /^reply\b[\s:,-]*(.*)$/is.exec(text);
  const body = match ? match[1]!.trim() : text;
  const agent = isAgent(actor.role);
  const everyoneReads = agent && !match && (await deps.access.viewFor(actor, conversationOf(actor, where))) !== 'agent';
  const isPublic = Boolean(match) || !agent || everyoneReads;
  const reply = await deps.runner.run(actor, { kind: isPublic ? 'reply' : 'note', ref: where.threadTicketId, text: body }, where, helpers);
  const visibility = isPublic ? 'public' : 'internal';
  if (!everyoneReads || reply.kind !== 'card' || reply.tone !== 'good') return { reply, visibility };
  const text_ = `${reply.summary}. Not everyone in this conversation is an agent, so this is a public reply the requester can read; write internal notes in a support channel or in your chat with me.`;
  return { reply: { kind: 'card', card: confirmationCard(text_, 'good'), summary: reply.summary, ...(reply.ticketId !== undefined ? { ticketId: reply.ticketId } : {}) }, visibility };
}

export async function whereOf(context: TurnContext, deps: Pick<TurnServices, 'conversations'>): Promise<Where> {
  const activity = context.activity;
  const { id } = await deps.conversations.remember(conversationToRemember(activity));
  const root = threadRootOf(activity);
  return {
    conversationRefId: id,
    kind: conversationKind(activity),
    teamId: teamIdOf(activity),
    teamName: teamNameOf(activity),
    threadTicketId: root ? await deps.conversations.ticketOfThread(id, root) : undefined,
  };
}

/** Replies in the conversation (in the thread, in a channel) and keeps a posted ticket card up to date. */
export async function send(context: TurnContext, deps: Pick<TurnServices, 'cardCopies'>, reply: Reply, where: Where): Promise<void> {
  if (reply.kind === 'none') return;
  const sent = await context.sendActivity(replyActivity(reply) as Partial<Activity>);
  if (reply.ticketCard && sent?.id) {
    deps.cardCopies.record({ ...reply.ticketCard, conversationRefId: where.conversationRefId, activityId: sent.id, renderedVersion: reply.ticketCard.version });
  }
}

