import type { Logger } from '../logger.js';
import {
  forgetConversation,
  forgetTeam,
  rememberConversation,
  type ConversationToRemember,
} from '../store/conversation-references.js';
import { findCardPost } from '../store/card-posts.js';
import type { Db } from '../store/database.js';
import { channelFor } from '../store/support-teams.js';
import type { ChannelRole } from '../store/tables.js';

/**
 * Where the bot can write: every personal chat, channel and group chat it has been installed in or
 * heard from. Remembering happens on install and on first contact; a per-process memo of conversations
 * already stored keeps ordinary turns from writing the same row again.
 */
export class ConversationDirectory {
  /** conversation id → the stored row's id and the service URL last stored. */
  private readonly known = new Map<string, { id: number; serviceUrl: string }>();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Stores the conversation if it is new here (or its service URL moved); returns its row id, and
   * whether the bot is new there (never seen, or removed since).
   */
  async remember(conversation: ConversationToRemember, options: { force?: boolean } = {}): Promise<{ id: number; isNew: boolean }> {
    const known = this.known.get(conversation.conversationId);
    if (!options.force && known?.serviceUrl === conversation.serviceUrl) return { id: known.id, isNew: false };
    const stored = await rememberConversation(this.db, conversation, this.clock());
    this.known.set(conversation.conversationId, { id: stored.id, serviceUrl: conversation.serviceUrl });
    if (stored.isNew) this.logger.info({ conversationId: conversation.conversationId, kind: conversation.kind }, 'conversation remembered');
    return stored;
  }

  /** The bot was uninstalled from a chat, or removed from a team (then every channel of it goes). */
  async forget(target: { conversationId: string; teamId: string | null }): Promise<void> {
    const now = this.clock();
    const removed = target.teamId ? await forgetTeam(this.db, target.teamId, now) : 0;
    if (removed === 0) await forgetConversation(this.db, target.conversationId, now);
    // A team takes all its channels with it; uninstalls are rare, so forgetting the whole memo is cheap.
    if (target.teamId) this.known.clear();
    else this.known.delete(target.conversationId);
    this.logger.info({ conversationId: target.conversationId, teamId: target.teamId }, 'conversation forgotten');
  }

  /** The stored reference id of the channel mapped to a role (triage, critical…), when one is. */
  async channelFor(role: ChannelRole): Promise<number | undefined> {
    return (await channelFor(this.db, role))?.conversationRefId;
  }

  /** The ticket a channel thread is about: the one whose card is the thread's root message, if any. */
  async ticketOfThread(conversationRefId: number, rootActivityId: string): Promise<number | undefined> {
    return (await findCardPost(this.db, conversationRefId, rootActivityId))?.ticketId;
  }

  /** Teams refused a send there: the stored row is now flagged, so the next contact must refresh it. */
  unreachable(conversationId: string): void {
    this.known.delete(conversationId);
  }
}
