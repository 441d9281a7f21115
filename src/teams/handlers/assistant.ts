import type { Application, TurnState } from '@microsoft/teams-ai';
import type { Activity, TurnContext } from 'botbuilder';
import { z } from 'zod';
import { ASSISTANT_VERBS, summaryCard, suggestReplyDialog, type AssistantVerb } from '../../cards/assistant-cards.js';
import { cardMessage, type AdaptiveCard } from '../../cards/adaptive-card.js';
import { confirmationCard } from '../../cards/confirmation-card.js';
import type { DialogInfo } from '../../cards/dialog-cards.js';
import type { Actor } from '../../services/actors.js';
import type { Result } from '../../services/result.js';
import { conversationOf, type Reply } from '../command-runner.js';
import { callerOf, type Where } from '../turn.js';
import { send, whereOf } from './messages.js';
import type { TurnServices } from './turn-services.js';

/**
 * The AI assistant's buttons on the agent card: Summary (answered as a card of its own, the ticket card
 * staying as it is), Suggest reply (a dialog holding the draft, sent only by the agent's Send), and
 * Accept / Dismiss of a new ticket's triage suggestion. Registered before the other card routes, whose
 * catch-all answers verbs nobody knows. When the assistant is off, a stale button says so.
 *
 * Each invoke is answered within Teams' 5 seconds whatever the model's endpoint does: the assistant's
 * own time limit is capped under it (AI_TIMEOUT), and past it the turn answers without the assistant.
 */

type AssistantTurnServices = TurnServices;

const OFF = 'The AI assistant is not turned on for this service desk.';
const AGENTS_ONLY = 'The assistant is for support agents, in their own chats and support channels.';
const opening = z.object({ ticket: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

export function registerAssistant(app: Application<TurnState>, deps: AssistantTurnServices): void {
  for (const verb of [ASSISTANT_VERBS.summary, ASSISTANT_VERBS.accept, ASSISTANT_VERBS.dismiss] as const) {
    app.adaptiveCards.actionExecute(verb, async (context, _state, data) => (await runAssistantAction(context, deps, verb, data)).card);
  }
  app.taskModules.fetch(ASSISTANT_VERBS.reply, (context, _state, data) => openSuggestedReply(context, deps, data));
}

/** The Action.Submit fallback of the same buttons (clients without Universal Actions): answered with a message. */
export async function onAssistantSubmit(context: TurnContext, deps: AssistantTurnServices, value: Record<string, unknown>): Promise<void> {
  const { verb, ...data } = value;
  const result = await runAssistantAction(context, deps, verb as AssistantVerb, data);
  await send(context, deps, { kind: 'card', ...result }, await whereOf(context, deps));
}

type ActionAnswer = { card: AdaptiveCard; summary: string; ticketCard?: Extract<Reply, { kind: 'card' }>['ticketCard'] };

async function runAssistantAction(context: TurnContext, deps: AssistantTurnServices, verb: AssistantVerb, raw: unknown): Promise<ActionAnswer> {
  const assistant = deps.assistant;
  if (!assistant) return warning(OFF);
  const parsed = opening.safeParse(raw ?? {});
  if (!parsed.success) return warning("That button sent something I can't use, so nothing was changed. Try again from a fresh card.");
  const gate = await agentHere(context, deps);
  if (!gate.ok) return warning(gate.reason);
  const { actor, where } = gate;
  const id = parsed.data.ticket;
  // The ticket must be one this agent may work, as for any change of priority.
  const found = await deps.runner.ticketFor(actor, id, 'priority');
  if (!found.ok) return warning(capitalize(found.reason));
  const fresh = async (notice?: { text: string; tone: 'good' | 'warning' }) => asAnswer(await deps.runner.show(actor, id, where, notice));
  const ctx = { actor, surface: 'card' as const };

  switch (verb) {
    case ASSISTANT_VERBS.summary: {
      const summary = await assistant.summary(actor, id);
      if (!summary.ok) return fresh({ text: summary.message, tone: 'warning' });
      const card = summaryCard(found.value, summary.value.lines);
      await context.sendActivity(cardMessage(card, `Summary · ${found.value.reference}`) as Partial<Activity>);
      return fresh();
    }
    case ASSISTANT_VERBS.accept:
      return afterChange(await assistant.acceptTriage(ctx, id), fresh);
    case ASSISTANT_VERBS.dismiss:
      return afterChange(await assistant.dismissTriage(ctx, id), fresh);
    default:
      return warning('This button is no longer supported; nothing was changed.');
  }
}

/** Suggest reply's task/fetch: the dialog with the draft, or without one (and why) when the assistant could not help. */
async function openSuggestedReply(context: TurnContext, deps: AssistantTurnServices, raw: unknown): Promise<DialogInfo | string> {
  if (!deps.assistant) return OFF;
  const parsed = opening.safeParse(raw ?? {});
  if (!parsed.success) return "That button sent something I can't use. Try again from a fresh card.";
  const gate = await agentHere(context, deps);
  if (!gate.ok) return gate.reason;
  const found = await deps.runner.ticketFor(gate.actor, parsed.data.ticket, 'comment');
  if (!found.ok) return capitalize(found.reason) + '.';
  const suggestion = await deps.assistant.suggestReply(gate.actor, found.value.id);
  return suggestion.ok ? suggestReplyDialog(found.value, suggestion.value.draft) : suggestReplyDialog(found.value, undefined, `${suggestion.message} Write the reply yourself.`);
}

/** Only an agent, where only agents read (the agent card's view): a summary may carry internal notes. */
async function agentHere(context: TurnContext, deps: AssistantTurnServices): Promise<{ ok: true; actor: Actor; where: Where } | { ok: false; reason: string }> {
  const actor = await deps.actors.identify(callerOf(context.activity));
  const where = await whereOf(context, deps);
  if ((await deps.access.viewFor(actor, conversationOf(actor, where))) !== 'agent') return { ok: false, reason: AGENTS_ONLY };
  return { ok: true, actor, where };
}

async function afterChange(result: Result<unknown>, fresh: (notice?: { text: string; tone: 'good' | 'warning' }) => Promise<ActionAnswer>): Promise<ActionAnswer> {
  if (result.ok) return fresh({ text: result.notice, tone: 'good' });
  if (result.denied) return warning(capitalize(result.reason));
  return fresh({ text: capitalize(result.reason), tone: 'warning' });
}

function asAnswer(reply: Reply): ActionAnswer {
  if (reply.kind === 'none') return warning('Nothing to show.');
  return { card: reply.card, summary: reply.summary, ...(reply.ticketCard ? { ticketCard: reply.ticketCard } : {}) };
}

function warning(text: string): ActionAnswer {
  return { card: confirmationCard(text, 'warning'), summary: text };
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
