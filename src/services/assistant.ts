import { z } from 'zod';
import type { AiConfig } from '../config.js';
import { redact } from '../domain/redaction.js';
import { isAgent } from '../domain/roles.js';
import { TICKET_TYPES, type TicketType } from '../domain/ticket-reference.js';
import { PRIORITIES, PRIORITY_LABELS, type Priority, type Ticket } from '../domain/tickets.js';
import type { AiError, ChatAnswer, ChatRequest, OpenAiCompatibleClient } from '../integrations/ai/openai-compatible.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { addTokensSpent, decideSuggestion, findSuggestion, recordAssistantCall, saveSuggestion, tokensSpent } from '../store/assistant.js';
import { findPeople } from '../store/people.js';
import { findTicket } from '../store/tickets.js';
import { listTimeline } from '../store/timeline.js';
import type { Actor } from './actors.js';
import type { Result } from './result.js';
import { SYSTEM_ACTOR, type ChangeContext } from './ticket-change.js';
import type { TicketService } from './tickets.js';
import { supportTeamsNamed } from '../store/support-teams.js';

/**
 * The optional AI assistant (issue 19): a Summary of a ticket's thread and a suggested reply for
 * agents, triage suggestions on new tickets, and reading a requester's free text when the
 * deterministic rules are unsure. It only ever suggests: a draft is sent when an agent presses Send,
 * triage is applied when an agent presses Accept, both through TicketService like any other change.
 *
 * The policy enterprises ask for lives here, in one place:
 * - what is sent: the thread for the agent audience, internal notes only with
 *   AI_INCLUDE_INTERNAL_NOTES=true, and every text redacted (src/domain/redaction.ts) first;
 * - every call audited (who, ticket, feature, model, tokens, outcome, ms; never text);
 * - a daily token budget counted in the database, so replicas share it;
 * - a time limit per call (AI_TIMEOUT, capped under Teams' 5-second invoke limit), after which the
 *   feature answers without the assistant. No failure of the model's endpoint fails a turn.
 */

export type AssistantFeature = 'summary' | 'reply' | 'triage' | 'read-request';

/** Why the assistant gave nothing, in words a person reads on the card. */
export type AssistantRefusal = { ok: false; reason: 'denied' | 'budget' | 'timeout' | 'failed' | 'invalid'; message: string };
export type AssistantAnswer<T> = { ok: true; value: T } | AssistantRefusal;

export const BUDGET_SPENT = "The assistant's budget for today is spent; it is back at midnight UTC.";

export interface TriageSuggestion {
  type: TicketType;
  priority: Priority;
  /** The support team's id and name, when the model named one we have. */
  team: { id: string; name: string } | null;
  reason: string;
}

/** What a requester's free text is about, when the rules could not tell. */
export interface RequestReading {
  intent: 'new' | 'status' | 'add_info' | 'unsure';
  fields: { priority?: Priority; service?: string };
}

export interface AssistantDeps {
  db: Db;
  client: OpenAiCompatibleClient;
  config: AiConfig;
  tickets: TicketService;
  logger: Logger;
  clock?: () => number;
}

// The JSON each feature asks for; a model answering anything else is "no suggestion".
const summarySchema = z.object({ lines: z.array(z.string().trim().min(1).max(400)).min(1).max(10) });
const replySchema = z.object({ draft: z.string().trim().min(1).max(8_000) });
const triageSchema = z.object({
  type: z.enum(TICKET_TYPES),
  priority: z.enum(PRIORITIES),
  team: z.string().trim().max(200).nullable().optional(),
  reason: z.string().trim().max(300).optional(),
});
const readingSchema = z.object({
  intent: z.enum(['new', 'status', 'add_info', 'unsure']),
  priority: z.enum(PRIORITIES).nullable().optional(),
  service: z.string().trim().max(100).nullable().optional(),
});

/** The most thread text one prompt carries (the newest kept): bounds tokens and time. */
const THREAD_MAX_CHARS = 12_000;

const FOR_AGENTS_ONLY: AssistantRefusal = { ok: false, reason: 'denied', message: 'The assistant is for support agents.' };

export class Assistant {
  private readonly clock: () => number;

  constructor(private readonly deps: AssistantDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** The thread so far in at most five lines, for an agent. */
  async summary(actor: Actor, ticketId: number): Promise<AssistantAnswer<{ lines: string[] }>> {
    if (!isAgent(actor.role)) return FOR_AGENTS_ONLY;
    const ticket = await findTicket(this.deps.db, ticketId);
    if (!ticket) return { ok: false, reason: 'failed', message: `There is no ticket #${ticketId}.` };
    const thread = await this.thread(ticket);
    const answer = await this.ask(actor, ticket.id, 'summary', {
      system:
        'You summarise a support ticket for the support agent working on it. Answer with a JSON object {"lines": [...]} of at most 5 short lines: the problem, what was tried or said, where it stands, and what is still open. Use only facts from the thread. Placeholders such as [email] stand for removed personal data: keep them as they are.',
      user: thread,
      maxTokens: 400,
    }, summarySchema);
    return answer.ok ? { ok: true, value: { lines: answer.value.lines.slice(0, 5) } } : answer;
  }

  /** A draft reply to the requester; it goes nowhere until the agent sends it. */
  async suggestReply(actor: Actor, ticketId: number): Promise<AssistantAnswer<{ draft: string }>> {
    if (!isAgent(actor.role)) return FOR_AGENTS_ONLY;
    const ticket = await findTicket(this.deps.db, ticketId);
    if (!ticket) return { ok: false, reason: 'failed', message: `There is no ticket #${ticketId}.` };
    const thread = await this.thread(ticket);
    const answer = await this.ask(actor, ticket.id, 'reply', {
      system:
        'You draft the next reply from a support agent to the person who raised this ticket. Be brief, polite and concrete; ask for what is missing; promise nothing the thread does not support. Never include internal notes verbatim. Answer with a JSON object {"draft": "..."} holding the reply text only.',
      user: thread,
      maxTokens: 500,
    }, replySchema);
    return answer.ok ? { ok: true, value: { draft: answer.value.draft } } : answer;
  }

  /**
   * Suggests type, priority and team for a new ticket and keeps the suggestion for the agent card.
   * Runs in the background after the ticket is created (never in the requester's turn); the ticket's
   * cards are refreshed when it is ready.
   */
  async triageNew(ticketId: number): Promise<void> {
    try {
      const ticket = await findTicket(this.deps.db, ticketId);
      if (!ticket || (await findSuggestion(this.deps.db, ticketId))) return;
      const named = (await supportTeamsNamed(this.deps.db)).flatMap((t) => (t.name ? [{ id: t.teamId, name: t.name }] : []));
      const answer = await this.ask(SYSTEM_ACTOR, ticket.id, 'triage', {
        system: [
          'You triage new IT support tickets. Answer with a JSON object {"type": "incident" | "request", "priority": "P1" | "P2" | "P3" | "P4", "team": <one of the team names or null>, "reason": "<under 20 words>"}.',
          'incident: something is broken or degraded. request: something is wanted (access, hardware, information).',
          `Priorities: ${PRIORITIES.map((p) => `${p} = ${PRIORITY_LABELS[p]}`).join('; ')}. P1 only when many people or a critical service are down.`,
          `Teams: ${named.length > 0 ? named.map((t) => t.name).join(', ') : '(none: answer null)'}.`,
        ].join('\n'),
        user: this.clean(`Subject: ${ticket.subject}\n\n${ticket.description}`),
        maxTokens: 150,
      }, triageSchema);
      if (!answer.ok) return;
      const team = answer.value.team ? (named.find((t) => t.name.toLowerCase() === answer.value.team!.toLowerCase()) ?? null) : null;
      const suggestion: TriageSuggestion = { type: answer.value.type, priority: answer.value.priority, team, reason: answer.value.reason ?? '' };
      if (!(await saveSuggestion(this.deps.db, ticket.id, 'triage', suggestion, this.clock()))) return;
      await this.deps.tickets.assistantTriage({ actor: SYSTEM_ACTOR, surface: 'system' }, ticket.id, { step: 'suggested', body: `The assistant suggested ${describeTriage(suggestion)}` });
    } catch (error) {
      // Background work: a failure leaves the ticket as it was, and says why in the log (never the text).
      this.deps.logger.warn({ err: error, ticketId, feature: 'triage' }, 'assistant triage failed');
    }
  }

  /** The pending triage suggestion of a ticket, for its agent card. */
  async pendingTriage(ticketId: number): Promise<TriageSuggestion | undefined> {
    const stored = await findSuggestion(this.deps.db, ticketId);
    if (!stored || stored.state !== 'pending' || stored.kind !== 'triage') return undefined;
    const parsed = storedTriage.safeParse(stored.payload);
    return parsed.success ? parsed.data : undefined;
  }

  /** An agent accepts the suggestion: applied through TicketService, checked like any change of priority. */
  async acceptTriage(ctx: ChangeContext, ticketId: number): Promise<Result<Ticket>> {
    const suggestion = await this.pendingTriage(ticketId);
    if (!suggestion) return { ok: false, reason: 'there is no triage suggestion waiting on this ticket' };
    const now = this.clock();
    return this.deps.tickets.assistantTriage(ctx, ticketId, {
      step: 'accepted',
      body: `${ctx.actor.person.name} accepted the assistant's triage: ${describeTriage(suggestion)}`,
      changes: { type: suggestion.type, priority: suggestion.priority, ...(suggestion.team ? { teamId: suggestion.team.id } : {}) },
      decide: (tx) => decideSuggestion(tx, ticketId, 'accepted', ctx.actor.person.id, now),
    });
  }

  /** An agent dismisses the suggestion: nothing of the ticket changes, the card stops showing it. */
  async dismissTriage(ctx: ChangeContext, ticketId: number): Promise<Result<Ticket>> {
    const now = this.clock();
    return this.deps.tickets.assistantTriage(ctx, ticketId, {
      step: 'dismissed',
      body: `${ctx.actor.person.name} dismissed the assistant's triage`,
      decide: (tx) => decideSuggestion(tx, ticketId, 'dismissed', ctx.actor.person.id, now),
    });
  }

  /**
   * What a requester's free text is about (new request, status question, more information) and the
   * fields it hints at, for the conversation to use where its rules are unsure. Undefined when the
   * assistant cannot say in time, is over budget, or answers nonsense: the caller then asks the person.
   */
  async readRequest(text: string, context: { actor: Actor; openTickets?: ReadonlyArray<{ reference: string; subject: string }> }): Promise<RequestReading | undefined> {
    const open = (context.openTickets ?? []).slice(0, 10).map((t) => `${t.reference}: ${t.subject}`);
    const answer = await this.ask(context.actor, null, 'read-request', {
      system:
        'A person wrote to an IT service desk. Decide what they want. Answer with a JSON object {"intent": "new" | "status" | "add_info" | "unsure", "priority": "P1" | "P2" | "P3" | "P4" | null, "service": "<the affected service or system, a few words>" | null}. new: a new problem or request. status: asking how an existing ticket stands. add_info: adding details to an existing ticket. priority only when they say how urgent or how many are affected.',
      user: this.clean(`${open.length > 0 ? `Their open tickets:\n${open.join('\n')}\n\n` : ''}Message:\n${text.slice(0, 4_000)}`),
      maxTokens: 100,
    }, readingSchema);
    if (!answer.ok) return undefined;
    const { intent, priority, service } = answer.value;
    return { intent, fields: { ...(priority ? { priority } : {}), ...(service ? { service } : {}) } };
  }

  /** The thread as the model reads it: the agent's view, internal notes only when allowed, redacted. */
  private async thread(ticket: Ticket): Promise<string> {
    const entries = await listTimeline(this.deps.db, ticket.id, { includeInternal: this.deps.config.includeInternalNotes, limit: 200 });
    const messages = entries.filter((e) => e.kind === 'reply' || e.kind === 'note');
    const people = await findPeople(this.deps.db, [ticket.requesterId, ...messages.flatMap((e) => (e.authorId === null ? [] : [e.authorId]))]);
    const who = (id: number | null) => (id === ticket.requesterId ? 'Requester' : id === null ? 'Service desk' : `Agent ${people.get(id)?.name ?? ''}`.trim());
    const head = `Ticket ${ticket.reference} (${ticket.type}, ${ticket.priority}, ${ticket.status}) via ${ticket.source}\nSubject: ${ticket.subject}\nDescription: ${ticket.description || '(none)'}`;
    const lines = messages.map((e) => `${who(e.authorId)}${e.visibility === 'internal' ? ' (internal note)' : ''}: ${e.body}`);
    // The newest messages matter most: drop the oldest until it fits.
    let body = lines.join('\n');
    while (body.length > THREAD_MAX_CHARS && lines.length > 1) {
      lines.shift();
      body = `(earlier messages left out)\n${lines.join('\n')}`;
    }
    return this.clean(`${head}\n\nThread, oldest first:\n${body.slice(-THREAD_MAX_CHARS)}`);
  }

  private clean(text: string): string {
    return redact(text).text;
  }

  /** One call: budget, time limit, audit row, spend; what the feature gets is a value or a refusal in words. */
  private async ask<T>(actor: Actor, ticketId: number | null, feature: AssistantFeature, request: ChatRequest, schema: z.ZodType<T>): Promise<AssistantAnswer<T>> {
    const started = performance.now();
    const day = new Date(this.clock()).toISOString().slice(0, 10);
    const audit = (outcome: string, usage: { promptTokens: number; completionTokens: number }, model: string) =>
      recordAssistantCall(this.deps.db, { at: this.clock(), personId: actor === SYSTEM_ACTOR ? null : actor.person.id, ticketId, feature, model, ...usage, outcome, ms: performance.now() - started });

    if ((await tokensSpent(this.deps.db, day)) >= this.deps.config.dailyTokenBudget) {
      await audit('budget', { promptTokens: 0, completionTokens: 0 }, this.deps.client.model);
      this.deps.logger.info({ feature, ticketId, outcome: 'budget' }, 'assistant call refused: daily token budget spent');
      return { ok: false, reason: 'budget', message: BUDGET_SPENT };
    }
    const answer: ChatAnswer<T> = await this.deps.client.chatJson(feature, request, schema);
    const outcome = answer.ok ? 'ok' : answer.error.failure;
    await addTokensSpent(this.deps.db, day, answer.usage.promptTokens + answer.usage.completionTokens);
    await audit(outcome, answer.usage, answer.model);
    const ms = Math.round(performance.now() - started);
    this.deps.logger.info({ feature, ticketId, outcome, ms, promptTokens: answer.usage.promptTokens, completionTokens: answer.usage.completionTokens }, 'assistant call');
    if (answer.ok) return { ok: true, value: answer.value };
    return refusalOf(answer.error);
  }
}

const storedTriage = z.object({
  type: z.enum(TICKET_TYPES),
  priority: z.enum(PRIORITIES),
  team: z.object({ id: z.string(), name: z.string() }).nullable(),
  reason: z.string(),
});

export function describeTriage(s: TriageSuggestion): string {
  return `${s.type}, ${s.priority}${s.team ? `, team ${s.team.name}` : ''}`;
}

function refusalOf(error: AiError): AssistantRefusal {
  switch (error.failure) {
    case 'timeout':
      return { ok: false, reason: 'timeout', message: 'The assistant did not answer in time, so there is no suggestion this time.' };
    case 'invalid':
      return { ok: false, reason: 'invalid', message: 'The assistant gave no usable answer, so there is no suggestion this time.' };
    default:
      return { ok: false, reason: 'failed', message: 'The assistant is unavailable right now, so there is no suggestion this time.' };
  }
}
