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

/**
 * Typed messages: commands in personal chats and, when the bot is @mentioned, in channels and group
 * chats; replies in the thread under a ticket's card, which become notes on that ticket; and
 * Action.Submit presses from clients without Universal Actions (a message with a `value`, no text).
 */
export function registerMessageHandlers(
  app: Application<TurnState>,
  deps: TurnServices & { onCardSubmit: (context: TurnContext, value: Record<string, unknown>) => Promise<void> },
): void {
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
      const parsed = parseCommand(text);
      if (where.threadTicketId !== undefined && (!addressed || !parsed.ok)) {
        await send(context, deps, await threadNote(deps, actor, where, text, deps.helpersFor(context, actor)), where);
        return;
      }
      if (!parsed.ok) {
        const message = parsed.suggestion ? `${parsed.error} Did you mean “${parsed.suggestion}”? Type help for everything I can do.` : `${parsed.error} Type help for everything I can do.`;
        await send(context, deps, { kind: 'card', card: confirmationCard(message, 'warning'), summary: message }, where);
        return;
      }
      const reply = await deps.runner.run(actor, parsed.command, where, deps.helpersFor(context, actor));
      await send(context, deps, reply, where);
    },
  );
}

/**
 * A reply under a ticket's card: an internal note, or public when it starts with "reply" (requesters
 * always public). Where not everyone present is an agent (a group chat, a channel outside the desk),
 * whatever an agent writes there is read by everyone, so it is a public reply, and the bot says so.
 */
async function threadNote(deps: Pick<TurnServices, 'runner' | 'access'>, actor: Actor, where: Where, text: string, helpers: TurnHelpers): Promise<Reply> {
  const match = /^reply\b[\s:,-]*(.*)$/is.exec(text);
  const body = match ? match[1]!.trim() : text;
  const agent = isAgent(actor.role);
  const everyoneReads = agent && !match && (await deps.access.viewFor(actor, conversationOf(actor, where))) !== 'agent';
  const isPublic = Boolean(match) || !agent || everyoneReads;
  const reply = await deps.runner.run(actor, { kind: isPublic ? 'reply' : 'note', ref: where.threadTicketId, text: body }, where, helpers);
  if (!everyoneReads || reply.kind !== 'card' || reply.tone !== 'good') return reply;
  const text_ = `${reply.summary}. Not everyone in this conversation is an agent, so this is a public reply the requester can read; write internal notes in a support channel or in your chat with me.`;
  return { kind: 'card', card: confirmationCard(text_, 'good'), summary: reply.summary };
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

