import type { Application, TurnState } from '@microsoft/teams-ai';
import type { Activity, TurnContext } from 'botbuilder';
import { z } from 'zod';
import { VERBS, type Verb } from '../../cards/actions.js';
import type { AdaptiveCard } from '../../cards/adaptive-card.js';
import { confirmationCard } from '../../cards/confirmation-card.js';
import { newTicketCard } from '../../cards/new-ticket-card.js';
import { isAgent } from '../../domain/roles.js';
import { TICKET_TYPES } from '../../domain/ticket-reference.js';
import { DESCRIPTION_MAX, NOTE_MAX, PRIORITIES, SETTABLE_STATUSES, SUBJECT_MAX } from '../../domain/tickets.js';
import type { Actor } from '../../services/actors.js';
import type { Result } from '../../services/result.js';
import { conversationOf, replyActivity, type Reply } from '../command-runner.js';
import { callerOf } from '../turn.js';
import { send, whereOf } from './messages.js';
import { attachPending, createFromPending, readsFreeText } from './free-text.js';
import type { TurnServices } from './turn-services.js';

/**
 * Card buttons. The same data arrives two ways: as an `adaptiveCard/action` invoke (Action.Execute),
 * answered within Teams' 5-second budget with a fresh card, or as a message with a `value`
 * (the Action.Submit fallback), answered with a reply. Either way the data is parsed here, at the
 * edge, and the change goes through the same service checks as a typed command: a tampered ticket id
 * or verb changes nothing it could not have changed by typing.
 */

const ticketId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const schemas = {
  [VERBS.take]: z.object({ ticket: ticketId }),
  [VERBS.open]: z.object({ ticket: ticketId }),
  [VERBS.accept]: z.object({ escalation: ticketId }),
  [VERBS.remind]: z.object({ ticket: ticketId, when: z.string().trim().max(100).optional(), whenText: z.string().trim().max(100).optional() }),
  [VERBS.reminderDone]: z.object({ reminder: ticketId }),
  [VERBS.reminderSnooze]: z.object({ reminder: ticketId, minutes: z.coerce.number().int().min(5).max(10_080).optional(), tomorrow: z.boolean().optional() }),
  [VERBS.decline]: z.object({ escalation: ticketId, reason: z.string().trim().max(500).optional() }),
  [VERBS.snooze]: z.object({ ticket: ticketId, clock: z.enum(['first_response', 'resolution']), minutes: z.coerce.number().int().min(5).max(1440) }),
  [VERBS.history]: z.object({ ticket: ticketId }),
  [VERBS.reopen]: z.object({ ticket: ticketId }),
  [VERBS.assign]: z.object({ ticket: ticketId, assignee: z.coerce.number().int().positive() }),
  [VERBS.priority]: z.object({ ticket: ticketId, priority: z.enum(PRIORITIES) }),
  [VERBS.status]: z.object({ ticket: ticketId, status: z.enum(SETTABLE_STATUSES), statusNote: z.string().max(NOTE_MAX).optional() }),
  [VERBS.note]: z.object({ ticket: ticketId, note: z.string().trim().min(1, 'is empty').max(NOTE_MAX), visibility: z.enum(['internal', 'public']).default('internal') }),
  [VERBS.comment]: z.object({ ticket: ticketId, note: z.string().trim().min(1, 'is empty').max(NOTE_MAX) }),
  [VERBS.create]: z.object({
    subject: z.string().trim().max(SUBJECT_MAX).default(''),
    description: z.string().max(DESCRIPTION_MAX).default(''),
    type: z.enum(TICKET_TYPES).default('incident'),
    priority: z.enum(PRIORITIES).default('P3'),
  }),
  [VERBS.requestCreate]: z.object({ pending: z.string().uuid() }),
  [VERBS.requestAttach]: z.object({ pending: z.string().uuid(), ticket: ticketId }),
  [VERBS.more]: z.object({
    list: z.enum(['mine', 'open', 'unassigned', 'team', 'breaching']),
    after: z.object({ updatedAt: z.number().int(), id: z.number().int() }),
    page: z.number().int().min(2).max(10_000).default(2),
    teamId: z.string().max(200).optional(),
  }),
} satisfies Record<Verb, z.ZodTypeAny>;

export type CardActionResult = { card: AdaptiveCard; summary: string; ticketCard?: Extract<Reply, { kind: 'card' }>['ticketCard'] };

export function registerCardActions(app: Application<TurnState>, deps: TurnServices): void {
  for (const verb of Object.values(VERBS)) {
    app.adaptiveCards.actionExecute(verb, async (context, _state, data) => {
      return (await runCardAction(context, deps, verb, data)).card;
    });
  }
  // A verb we do not know: a card from an older version, or tampered with.
  app.adaptiveCards.actionExecute(
    async (context) => context.activity.type === 'invoke' && context.activity.name === 'adaptiveCard/action',
    async (context) => {
      deps.logger.warn({ verb: (context.activity.value as { action?: { verb?: unknown } } | undefined)?.action?.verb, activityId: context.activity.id }, 'card action with an unknown verb');
      return confirmationCard('This button is no longer supported; nothing was changed. Type help to see what I can do.', 'warning');
    },
  );
}

/** The Action.Submit fallback: same action, answered with a reply instead of an invoke response. */
export async function onCardSubmit(context: TurnContext, deps: TurnServices, value: Record<string, unknown>): Promise<void> {
  const verb = typeof value.verb === 'string' && (Object.values(VERBS) as string[]).includes(value.verb) ? (value.verb as Verb) : undefined;
  const where = await whereOf(context, deps);
  if (!verb) {
    deps.logger.warn({ activityId: context.activity.id }, 'card submit with an unknown verb');
    await send(context, deps, { kind: 'card', card: confirmationCard('This button is no longer supported; nothing was changed.', 'warning'), summary: 'Not supported' }, where);
    return;
  }
  const { verb: _verb, ...data } = value;
  const result = await runCardAction(context, deps, verb, data);
  await send(context, deps, { kind: 'card', ...result }, where);
}

export async function runCardAction(context: TurnContext, deps: TurnServices, verb: Verb, raw: unknown): Promise<CardActionResult> {
  const parsed = schemas[verb].safeParse(raw ?? {});
  if (!parsed.success) {
    deps.logger.warn({ verb, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`), activityId: context.activity.id }, 'card action with invalid data');
    return warning("That button sent something I can't use, so nothing was changed. Try again from a fresh card (type show and the ticket's reference).");
  }
  const actor = await deps.actors.identify(callerOf(context.activity));
  if (actor.role === 'outsider') return warning('This service desk is only for people in its organisation.');
  const where = await whereOf(context, deps);
  const data = parsed.data as Record<string, any>;
  const ctx = { actor, surface: 'card' as const };

  // Whatever the verb, the card that comes back is the one this person may see in this conversation.
  const afterChange = (result: Result<unknown>, id: number) => (result.ok ? freshCard(id, { text: result.notice, tone: 'good' }) : refusedOr(result, () => freshCard(id, { text: capitalize(result.reason), tone: 'warning' })));
  // Escalation and reminder cards are agents' cards: elsewhere the answer is just what happened.
  const agentCard = async <T,>(render: () => Promise<T>): Promise<T | undefined> => ((await deps.access.viewFor(actor, conversationOf(actor, where))) === 'agent' ? render() : undefined);
  const freshCard = async (id: number, notice?: { text: string; tone: 'good' | 'warning' }) => asResult(await deps.runner.show(actor, id, where, notice));

  switch (verb) {
    case VERBS.take:
      return afterChange(await deps.tickets.take(ctx, data.ticket), data.ticket);
    case VERBS.open:
      return freshCard(data.ticket);
    case VERBS.remind: {
      // A typed time wins over the picked one.
      const when = data.whenText || data.when;
      if (!when) return freshCard(data.ticket, { text: 'Pick or type when to be reminded.', tone: 'warning' });
      const result = await deps.reminders.create(actor, data.ticket, when);
      return afterChange(result, data.ticket);
    }
    case VERBS.reminderDone:
    case VERBS.reminderSnooze: {
      const result =
        verb === VERBS.reminderDone
          ? await deps.reminders.complete(actor, data.reminder)
          : await deps.reminders.snooze(actor, data.reminder, data.tomorrow ? 'tomorrow' : { minutes: data.minutes ?? 60 });
      if (!result.ok) return warning(capitalize(result.reason));
      const card = await agentCard(() => deps.cards.reminderMessage(data.reminder));
      if (!card) return warning(result.notice);
      const content = (card.activity.attachments as Array<{ content: AdaptiveCard }>)[0]!.content;
      return { card: content, summary: result.notice };
    }
    case VERBS.accept:
    case VERBS.decline: {
      const result =
        verb === VERBS.accept
          ? await deps.escalations.accept(actor, data.escalation)
          : await deps.escalations.decline(actor, data.escalation, data.reason || null);
      // A refusal says only that; otherwise the card shows where the escalation now stands (the
      // winner, when someone was faster).
      if (!result.ok && result.denied) return warning(capitalize(result.reason));
      const card = await agentCard(() => deps.cards.escalationMessage(data.escalation));
      if (!card) return warning(result.ok ? result.notice : capitalize(result.reason));
      const content = (card.activity.attachments as Array<{ content: AdaptiveCard }>)[0]!.content;
      return { card: content, summary: result.ok ? result.notice : capitalize(result.reason) };
    }
    case VERBS.snooze: {
      const result = await deps.sla.snooze(actor, data.ticket, data.clock, data.minutes);
      if (!result.ok) return warning(capitalize(result.reason));
      // The warning card, as it now stands: it says who snoozed it until when.
      const card = await deps.cards.slaMessage(data.ticket, 'warning', data.clock);
      if (!card) return warning(result.notice);
      const content = (card.activity.attachments as Array<{ content: AdaptiveCard }>)[0]!.content;
      return { card: content, summary: String(card.activity.summary) };
    }
    case VERBS.assign: {
      const assignee = await deps.actors.person(data.assignee);
      if (!assignee || !isAgent(await deps.actors.roleOf(assignee))) {
        // The fresh card that follows is still only what this person may see of the ticket.
        return afterChange({ ok: false, reason: 'that person is not a support agent; nothing was changed' }, data.ticket);
      }
      return afterChange(await deps.tickets.assign(ctx, data.ticket, assignee), data.ticket);
    }
    case VERBS.priority:
      return afterChange(await deps.tickets.setPriority(ctx, data.ticket, data.priority), data.ticket);
    case VERBS.status:
      return afterChange(await deps.tickets.changeStatus(ctx, data.ticket, data.status, data.statusNote?.trim() || undefined), data.ticket);
    case VERBS.note:
      return afterChange(await deps.tickets.comment(ctx, data.ticket, data.note, data.visibility), data.ticket);
    case VERBS.comment:
      return afterChange(await deps.tickets.comment(ctx, data.ticket, data.note, 'public'), data.ticket);
    case VERBS.reopen:
      return afterChange(await deps.tickets.changeStatus(ctx, data.ticket, 'open'), data.ticket);
    case VERBS.history: {
      // The history goes out as its own message; the card itself stays as it is.
      const history = await deps.runner.history(actor, data.ticket, where);
      if (history.kind === 'card') await context.sendActivity(replyActivity(history) as Partial<Activity>);
      return freshCard(data.ticket);
    }
    case VERBS.create: {
      if (!data.subject) return { card: newTicketCard({ problem: 'A ticket needs a subject.', description: data.description, priorities: deps.access.prioritiesFor(actor) }), summary: 'New ticket' };
      const reply = await deps.runner.create(actor, where, deps.helpersFor(context, actor), { subject: data.subject, description: data.description, type: data.type, priority: data.priority }, 'card');
      return asResult(reply);
    }
    case VERBS.requestCreate:
    case VERBS.requestAttach: {
      // Only where the message was written: a requester's personal chat with the bot.
      if (!readsFreeText(deps, actor, where)) return warning('This button works only in your personal chat with me.');
      const reply = verb === VERBS.requestCreate ? await createFromPending(context, deps, actor, where, data.pending) : await attachPending(context, deps, actor, where, data.pending, data.ticket);
      return asResult(reply);
    }
    case VERBS.more:
      return asResult(await deps.runner.list(actor, data.list, { ...where, teamId: data.teamId ?? where.teamId }, data.after, data.page));
  }
}

/** A refused action (not allowed, or no such ticket for this person) answers with the refusal alone. */
function refusedOr(result: Extract<Result<unknown>, { ok: false }>, otherwise: () => Promise<CardActionResult>): Promise<CardActionResult> {
  return result.denied ? Promise.resolve(warning(capitalize(result.reason))) : otherwise();
}

function asResult(reply: Reply): CardActionResult {
  if (reply.kind === 'none') return warning('Nothing to show.');
  return { card: reply.card, summary: reply.summary, ...(reply.ticketCard ? { ticketCard: reply.ticketCard } : {}) };
}

function warning(text: string): CardActionResult {
  return { card: confirmationCard(text, 'warning'), summary: text };
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

