import { inTransaction, type Db } from './database.js';
import type { ConversationReferenceRow } from './tables.js';

export type ConversationKind = 'personal' | 'channel' | 'groupChat';

export interface StoredConversation {
  id: number;
  conversationId: string;
  kind: ConversationKind;
  tenantId: string | null;
  teamId: string | null;
  userTeamsId: string | null;
  userAadObjectId: string | null;
  serviceUrl: string;
  /** botbuilder's ConversationReference, kept opaque outside src/teams. */
  reference: unknown;
  removed: boolean;
  staleReason: string | null;
}

export interface ConversationToRemember {
  conversationId: string;
  kind: ConversationKind;
  tenantId: string | null;
  teamId: string | null;
  userTeamsId: string | null;
  userAadObjectId: string | null;
  serviceUrl: string;
  reference: unknown;
}

function toStored(row: ConversationReferenceRow): StoredConversation {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    kind: row.kind,
    tenantId: row.tenant_id,
    teamId: row.team_id,
    userTeamsId: row.user_teams_id,
    userAadObjectId: row.user_aad_object_id,
    serviceUrl: row.service_url,
    reference: JSON.parse(row.reference),
    removed: row.removed_at !== null,
    staleReason: row.stale_reason,
  };
}

/**
 * Stores (or refreshes) how to reach a conversation. Returns whether the bot is new there: never seen,
 * or seen before but since removed, which is when a welcome is due.
 */
export async function rememberConversation(
  db: Db,
  conversation: ConversationToRemember,
  now: number,
): Promise<{ id: number; isNew: boolean }> {
  return inTransaction(db, async (tx) => {
    const existing = await tx
      .selectFrom('conversation_references')
      .select(['id', 'removed_at'])
      .where('conversation_id', '=', conversation.conversationId)
      .executeTakeFirst();
    const values = {
      kind: conversation.kind,
      tenant_id: conversation.tenantId,
      team_id: conversation.teamId,
      user_teams_id: conversation.userTeamsId,
      user_aad_object_id: conversation.userAadObjectId,
      service_url: conversation.serviceUrl,
      reference: JSON.stringify(conversation.reference),
      updated_at: now,
      removed_at: null,
      // Hearing from a conversation proves the bot can reach it again.
      stale_at: null,
      stale_reason: null,
    };
    if (existing) {
      await tx.updateTable('conversation_references').set(values).where('id', '=', existing.id).execute();
      return { id: existing.id, isNew: existing.removed_at !== null };
    }
    const inserted = await tx
      .insertInto('conversation_references')
      .values({ ...values, conversation_id: conversation.conversationId, installed_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: inserted.id, isNew: true };
  });
}

/** The bot was uninstalled: forget the conversation (kept as a row so card posts still resolve). */
export async function forgetConversation(db: Db, conversationId: string, now: number): Promise<number> {
  const result = await db
    .updateTable('conversation_references')
    .set({ removed_at: now, updated_at: now })
    .where('conversation_id', '=', conversationId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The bot was removed from a team: forget every channel of it. */
export async function forgetTeam(db: Db, teamId: string, now: number): Promise<number> {
  const result = await db
    .updateTable('conversation_references')
    .set({ removed_at: now, updated_at: now })
    .where('team_id', '=', teamId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Teams said the bot cannot write there (403): keep the row, flag it, and stop trying. */
export async function markConversationStale(db: Db, id: number, reason: string, now: number): Promise<void> {
  await db
    .updateTable('conversation_references')
    .set({ stale_at: now, stale_reason: reason, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function findConversationById(db: Db, id: number): Promise<StoredConversation | undefined> {
  const row = await db.selectFrom('conversation_references').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toStored(row);
}

export async function findConversation(db: Db, conversationId: string): Promise<StoredConversation | undefined> {
  const row = await db
    .selectFrom('conversation_references')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .executeTakeFirst();
  return row && toStored(row);
}

/** The live personal chat with a person, by Entra object id or Teams id. */
export async function findPersonalConversation(
  db: Db,
  user: { aadObjectId?: string | null; teamsId?: string | null },
): Promise<StoredConversation | undefined> {
  const row = await db
    .selectFrom('conversation_references')
    .selectAll()
    .where('kind', '=', 'personal')
    .where('removed_at', 'is', null)
    .where((eb) =>
      eb.or([
        ...(user.aadObjectId ? [eb('user_aad_object_id', '=', user.aadObjectId)] : []),
        ...(user.teamsId ? [eb('user_teams_id', '=', user.teamsId)] : []),
        eb.lit(false),
      ]),
    )
    .orderBy('updated_at', 'desc')
    .executeTakeFirst();
  return row && toStored(row);
}
