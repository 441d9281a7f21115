import type { TurnContext } from 'botbuilder';
import { confirmationCard } from '../../cards/confirmation-card.js';
import { CHOICES_MAX, followUpCard, requestChoiceCard, requestOfferCard } from '../../cards/request-cards.js';
import { readRequest, smallTalk, ticketFromText, type OpenTicketSummary, type RequestReading } from '../../domain/free-text.js';
import { NOTE_MAX } from '../../domain/tickets.js';
import type { Actor } from '../../services/actors.js';
import type { PendingMessage, RequestConversations } from '../../services/request-conversations.js';
import type { TicketQueries } from '../../services/ticket-queries.js';
import type { Reply } from '../command-runner.js';
import { storeTeamsFiles, type TeamsAttachment } from '../teams-files.js';
import type { Where } from '../turn.js';
import type { FileServices } from './files.js';
import type { TurnServices } from './turn-services.js';

/**
 * Free text from a requester in their personal chat with the bot: not a command, so a request. A
 * greeting gets a greeting; "any news?" shows their ticket; a follow-up while a ticket is being
 * discussed joins it; otherwise the bot offers to open a ticket with it, or asks which open ticket it
 * belongs to. What to do is read by `readRequest` (domain/free-text.ts, deterministic); every change
 * goes through the ticket service as the requester, with the same checks as a typed command.
 */

export type FreeTextServices = TurnServices & { requests: RequestConversations; queries: TicketQueries };

/** True when this turn's free text is read as a request: a requester (not an agent) in a personal chat. */
export function readsFreeText(deps: TurnServices, actor: Actor, where: Where): deps is FreeTextServices {
  return where.kind === 'personal' && actor.role === 'requester' && deps.requests !== undefined && deps.queries !== undefined;
}

/** Answers one free-text message (with its files, when `files` says they are to be kept). */
export async function answerFreeText(
  context: TurnContext,
  deps: FreeTextServices,
  actor: Actor,
  where: Where,
  text: string,
  files: FileServices | undefined,
  send: (reply: Reply) => Promise<void>,
): Promise<void> {
  const attachments = files ? ((context.activity.attachments ?? []) as TeamsAttachment[]) : [];
  const greeting = attachments.length === 0 ? smallTalk(text) : undefined;
  if (greeting) return send(good(greeting));

  const open = await deps.queries.openTicketsOf(actor);
  const summaries: OpenTicketSummary[] = open.map((t) => ({ id: t.id, reference: t.reference, subject: t.subject, updatedAt: t.updatedAt }));
  const focus = await deps.requests.focus(where.conversationRefId, actor.person.id);
  // A focus on a ticket that has since been resolved or closed is over: a new message is a new matter.
  const focusTicketId = focus && summaries.some((s) => s.id === focus.ticketId) ? focus.ticketId : undefined;
  const body = text.trim() || (attachments.length > 0 ? `Sent ${describeFiles(attachments)}` : '');
  if (!body) return send(good('Tell me what you need, in your own words, and I’ll open a ticket for you; “help” lists what else I can do.'));
  const rules = readRequest(body, summaries, focusTicketId !== undefined ? { focusTicketId } : {});
  const reading = rules.intent === 'unsure' && deps.assistant ? await settleWithAssistant(deps.assistant, actor, body, summaries, rules) : rules;
  deps.logger.debug({ intent: reading.intent, confidence: reading.confidence, openTickets: summaries.length, activityId: context.activity.id }, 'free text read');

  switch (reading.intent) {
    case 'status': {
      if (reading.ticketId !== undefined) return showTicket(deps, actor, where, reading.ticketId, send);
      if (summaries.length === 0) return send(good('You have no open tickets. Tell me what’s wrong, in your own words, and I’ll open one.'));
      return send(await deps.runner.list(actor, 'open', where, undefined, 1));
    }
    case 'add-info': {
      const ticket = summaries.find((s) => s.id === reading.ticketId)!;
      return send(await addToTicket(context, deps, actor, where, ticket, { text: body, attachments }, files));
    }
    case 'new':
    case 'unsure': {
      if (body.length > NOTE_MAX) return send(warn(`That is ${body.length.toLocaleString('en-US')} characters; the most a message to a ticket can hold is ${NOTE_MAX.toLocaleString('en-US')}. Shorten it, or attach the rest as a file.`));
      const pending = await deps.requests.remember(where.conversationRefId, actor.person.id, body, attachments);
      if (reading.intent === 'new' || summaries.length === 0) {
        const { subject, description } = ticketFromText(body);
        return send({ kind: 'card', card: requestOfferCard({ pending, subject, description, files: attachments.length }), summary: 'Open a ticket with this?' });
      }
      const byId = new Map(summaries.map((s) => [s.id, s]));
      const choices = reading.ranked.slice(0, CHOICES_MAX).map((id) => byId.get(id)!);
      return send({ kind: 'card', card: requestChoiceCard({ pending, tickets: choices, text: body }), summary: 'Is this about one of your open tickets?' });
    }
  }
}

/**
 * When the rules cannot tell, the assistant (AI_ENDPOINT) may: a new request, or a question about the
 * ticket the rules found likeliest. It never picks a ticket to add text to by itself (that stays the
 * person's choice), and when it is off, slow, over budget or unsure, the rules' answer stands.
 */
async function settleWithAssistant(assistant: NonNullable<TurnServices['assistant']>, actor: Actor, body: string, summaries: readonly OpenTicketSummary[], rules: RequestReading): Promise<RequestReading> {
  const read = await assistant.readRequest(body, { actor, openTickets: summaries });
  if (read?.intent === 'new') return { ...rules, intent: 'new', confidence: 0.7 };
  if (read?.intent === 'status' && rules.ticketId !== undefined) return { ...rules, intent: 'status', confidence: 0.7 };
  return rules;
}

/** "Open ticket" / "It's new" / "That's a new request": a ticket from the pending message, with its files. */
export async function createFromPending(context: TurnContext, deps: FreeTextServices, actor: Actor, where: Where, pendingId: string): Promise<Reply> {
  const pending = await deps.requests.pendingMessage(where.conversationRefId, actor.person.id, pendingId);
  if (!pending) return gone();
  // Settled first: a second tap on the same card finds nothing to open a second ticket with.
  await deps.requests.settle(where.conversationRefId, pending.id);
  const { subject, description } = ticketFromText(pending.text);
  const reply = await deps.runner.create(actor, where, deps.helpersFor(context, actor), { subject, description, priority: 'P3', type: 'incident' }, 'card');
  if (reply.kind !== 'card' || reply.ticketId === undefined) return reply;
  await deps.requests.setFocus(where.conversationRefId, actor.person.id, reply.ticketId);
  // It had joined another ticket as a follow-up: the timeline is append-only, so that ticket says where it went.
  if (pending.joined !== undefined) await saySeparate(deps, actor, pending.joined, reply.ticketId);
  const kept = await keepPendingFiles(context, deps, pending, reply.ticketId, actor);
  if (!kept) return reply;
  const text = `${reply.summary}. ${kept.text}`;
  return { ...reply, card: confirmationCard(`${cardText(reply)} ${kept.text}`, kept.tone), summary: text };
}

/** A ticket button of "Is this about one of these?": the pending message joins that ticket. */
export async function attachPending(context: TurnContext, deps: FreeTextServices, actor: Actor, where: Where, pendingId: string, ticketId: number): Promise<Reply> {
  const pending = await deps.requests.pendingMessage(where.conversationRefId, actor.person.id, pendingId);
  if (!pending) return gone();
  const found = await deps.queries.get(actor, ticketId);
  if (!found.ok) return warn(capitalize(found.reason));
  await deps.requests.settle(where.conversationRefId, pending.id);
  return addToTicket(context, deps, actor, where, { id: found.value.id, reference: found.value.reference, subject: found.value.subject }, pending, undefined);
}

/** Free text as a public comment on `ticket`, with its files; the answer offers to make it a new request. */
async function addToTicket(
  context: TurnContext,
  deps: FreeTextServices,
  actor: Actor,
  where: Where,
  ticket: Pick<OpenTicketSummary, 'id' | 'reference' | 'subject'>,
  message: Pick<PendingMessage, 'text' | 'attachments'>,
  files: FileServices | undefined,
): Promise<Reply> {
  const result = await deps.tickets.comment({ actor, surface: 'chat' }, ticket.id, message.text, 'public');
  if (!result.ok) return warn(capitalize(result.reason));
  await deps.requests.setFocus(where.conversationRefId, actor.person.id, ticket.id);
  const kept = message.attachments.length > 0 ? await storeFiles(context, files ?? deps.fileServices, ticket.id, message.attachments as TeamsAttachment[], actor, deps) : undefined;
  // Kept as pending again, so "That's a new request" can still open a ticket with it.
  const pending = await deps.requests.remember(where.conversationRefId, actor.person.id, message.text, message.attachments, ticket.id);
  const card = followUpCard({ pending, reference: ticket.reference, subject: ticket.subject, ...(kept ? { files: kept.text } : {}) });
  return { kind: 'card', card, summary: `Added to ${ticket.reference}`, tone: 'good', ticketId: ticket.id };
}

async function saySeparate(deps: FreeTextServices, actor: Actor, joined: number, created: number): Promise<void> {
  const ticket = await deps.queries.get(actor, created);
  if (!ticket.ok) return;
  const result = await deps.tickets.comment({ actor, surface: 'card' }, joined, `My previous message here is a separate request: ${ticket.value.reference}.`, 'public');
  if (!result.ok) deps.logger.info({ ticketId: joined, reason: result.reason }, 'could not note on a ticket that a follow-up became a new request');
}

async function showTicket(deps: FreeTextServices, actor: Actor, where: Where, ticketId: number, send: (reply: Reply) => Promise<void>): Promise<void> {
  const reply = await deps.runner.show(actor, ticketId, where);
  await send(reply);
  if (reply.kind === 'card' && reply.ticketCard) await deps.requests.setFocus(where.conversationRefId, actor.person.id, ticketId);
}

async function keepPendingFiles(context: TurnContext, deps: FreeTextServices, pending: PendingMessage, ticketId: number, actor: Actor) {
  if (pending.attachments.length === 0) return undefined;
  return storeFiles(context, deps.fileServices, ticketId, pending.attachments as TeamsAttachment[], actor, deps);
}

/** Keeps files on the ticket (public: the requester sent them) and says what was kept and what was not. */
async function storeFiles(context: TurnContext, files: FileServices | undefined, ticketId: number, attachments: TeamsAttachment[], actor: Actor, deps: Pick<TurnServices, 'logger'>): Promise<{ text: string; tone: 'good' | 'warning' } | undefined> {
  if (!files) return undefined;
  let kept: string[] = [];
  let failed: string[] = [];
  try {
    const result = await storeTeamsFiles(context, files, ticketId, attachments, { authorId: actor.person.id, visibility: 'public' });
    kept = result.kept.map((f) => f.name);
    failed = result.failed.map((f) => `${f.name} (${f.reason})`);
  } catch (error) {
    // The ticket change is done; only the files are missing, and the person hears so.
    deps.logger.warn({ err: error, ticketId }, 'files of a free-text message could not be kept');
    failed = [`${describeFiles(attachments)} (they could not be read; send them again)`];
  }
  if (kept.length === 0 && failed.length === 0) return undefined;
  const text = [kept.length > 0 ? `Kept on the ticket: ${kept.join(', ')}.` : '', failed.length > 0 ? `Not kept: ${failed.join('; ')}.` : ''].filter(Boolean).join(' ');
  return { text, tone: failed.length > 0 ? 'warning' : 'good' };
}

function describeFiles(attachments: readonly TeamsAttachment[]): string {
  const names = attachments.filter((a) => a.contentType !== 'text/html').map((a) => a.name || (String(a.contentType).startsWith('image/') ? 'an image' : 'a file'));
  return names.join(', ') || 'a file';
}

/** The text of a confirmation card (its second run), to extend it. */
function cardText(reply: Extract<Reply, { kind: 'card' }>): string {
  const inlines = (reply.card.body[0] as { inlines?: Array<{ text: string }> }).inlines;
  return inlines?.[1]?.text ?? reply.summary;
}

const gone = () => warn('That message is no longer waiting for an answer (it was dealt with already, or it is more than a day old); write it again if it still needs doing.');

function good(text: string): Reply {
  return { kind: 'card', card: confirmationCard(text, 'good'), summary: text, tone: 'good' };
}

function warn(text: string): Reply {
  return { kind: 'card', card: confirmationCard(text, 'warning'), summary: text, tone: 'warning' };
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
