import { sql } from 'kysely';
import type { Db } from './database.js';

/** The assistant's audit rows, shared token budget and triage suggestions (see the 2026-11-23 migration). */

export interface AssistantCallRecord {
  at: number;
  personId: number | null;
  ticketId: number | null;
  feature: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  outcome: string;
  ms: number;
}

export async function recordAssistantCall(db: Db, call: AssistantCallRecord): Promise<void> {
  await db
    .insertInto('assistant_calls')
    .values({
      at: call.at,
      person_id: call.personId,
      ticket_id: call.ticketId,
      feature: call.feature,
      model: call.model.slice(0, 200),
      prompt_tokens: call.promptTokens,
      completion_tokens: call.completionTokens,
      outcome: call.outcome,
      ms: Math.max(0, Math.round(call.ms)),
    })
    .execute();
}

export async function listAssistantCalls(db: Db, since = 0): Promise<AssistantCallRecord[]> {
  const rows = await db.selectFrom('assistant_calls').selectAll().where('at', '>=', since).orderBy('id').execute();
  return rows.map((r) => ({
    at: Number(r.at),
    personId: r.person_id === null ? null : Number(r.person_id),
    ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
    feature: r.feature,
    model: r.model,
    promptTokens: Number(r.prompt_tokens),
    completionTokens: Number(r.completion_tokens),
    outcome: r.outcome,
    ms: Number(r.ms),
  }));
}

/** Tokens spent on `day` by every replica. */
export async function tokensSpent(db: Db, day: string): Promise<number> {
  const row = await db.selectFrom('assistant_budget').select('tokens').where('day', '=', day).executeTakeFirst();
  return row ? Number(row.tokens) : 0;
}

/** Adds to `day`'s spend in one statement, so replicas adding at once lose nothing. */
export async function addTokensSpent(db: Db, day: string, tokens: number): Promise<void> {
  if (tokens <= 0) return;
  await db
    .insertInto('assistant_budget')
    .values({ day, tokens })
    .onConflict((oc) => oc.column('day').doUpdateSet({ tokens: sql`assistant_budget.tokens + ${tokens}` }))
    .execute();
}

export interface StoredSuggestion {
  ticketId: number;
  kind: string;
  payload: unknown;
  state: 'pending' | 'accepted' | 'dismissed';
}

/** Keeps the first suggestion of a ticket: triage is suggested once, when it is new. */
export async function saveSuggestion(db: Db, ticketId: number, kind: string, payload: unknown, now: number): Promise<boolean> {
  const result = await db
    .insertInto('assistant_suggestions')
    .values({ ticket_id: ticketId, kind, payload: JSON.stringify(payload), state: 'pending', created_at: now, decided_by: null, decided_at: null })
    .onConflict((oc) => oc.column('ticket_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function findSuggestion(db: Db, ticketId: number): Promise<StoredSuggestion | undefined> {
  const row = await db.selectFrom('assistant_suggestions').selectAll().where('ticket_id', '=', ticketId).executeTakeFirst();
  if (!row) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    payload = undefined;
  }
  return { ticketId: Number(row.ticket_id), kind: row.kind, payload, state: row.state };
}

/** Moves a pending suggestion to accepted or dismissed; false when someone decided first. */
export async function decideSuggestion(db: Db, ticketId: number, state: 'accepted' | 'dismissed', by: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('assistant_suggestions')
    .set({ state, decided_by: by, decided_at: now })
    .where('ticket_id', '=', ticketId)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
