import type { Db } from '../store/database.js';
import { cardPostsOfTicket } from '../store/card-posts.js';
import { findPersonalConversation } from '../store/conversation-references.js';
import { enqueue, enqueueCardUpdate } from '../store/outbox.js';
import { findPeople } from '../store/people.js';

/** A card or message to the personal chat of a person a change concerns. */
export interface ChangeNotice {
  personId: number;
  /** Part of the idempotency key: one notice per purpose, person and ticket version. */
  purpose: string;
  /** null: the ticket's card. */
  activity: Record<string, unknown> | null;
}

/**
 * Who hears about a committed ticket change, queued in its transaction: every posted copy of the
 * ticket's card is updated in place to the new version, and each person named gets a notice in their
 * personal chat, unless they made the change themselves or the bot cannot reach them there.
 * Returns true when it queued anything (so the caller wakes the outbox after the commit).
 */
export async function queueChangeNotifications(
  tx: Db,
  change: { ticketId: number; version: number; madeBy: number; notify: readonly ChangeNotice[] },
  now: number,
): Promise<boolean> {
  const { ticketId, version } = change;
  let queued = false;
  for (const post of await cardPostsOfTicket(tx, ticketId)) {
    queued = (await enqueueCardUpdate(tx, { postId: post.id, conversationRefId: post.conversationRefId, activityId: post.activityId, ticketId, cardKind: post.kind, version }, now)) || queued;
  }
  const people = await findPeople(tx, change.notify.map((n) => n.personId));
  for (const note of change.notify) {
    const person = people.get(note.personId);
    if (!person || person.id === change.madeBy) continue;
    const chat = await findPersonalConversation(tx, { aadObjectId: person.aadObjectId, teamsId: person.teamsId });
    if (!chat) continue;
    await enqueue(
      tx,
      [{ idempotencyKey: `ticket:${ticketId}:v${version}:${note.purpose}:conv:${chat.id}`, operation: 'send', conversationRefId: chat.id, ticketId, cardKind: 'ticket', activity: note.activity }],
      now,
    );
    queued = true;
  }
  return queued;
}
