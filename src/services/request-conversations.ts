import { randomUUID } from 'node:crypto';
import { deleteState, readState, writeState } from '../store/bot-state.js';
import type { Db } from '../store/database.js';

/**
 * What a personal chat with a requester is about right now, kept between turns:
 *
 * - the focus: the ticket just discussed (created, shown or picked) and until when a follow-up
 *   message joins it, so "and it also happens on wifi" a minute later lands on that ticket;
 * - pending messages: free text the bot asked about ("open a ticket with this?", "is this about one of
 *   these?"), with the files that came with it, until a button says what to do with it.
 *
 * Both live in the bot-state table (store/bot-state.ts), not in a table of their own: they are
 * short-lived conversational scratch data like the rest of the turn state, every replica reads the same
 * database so a button pressed on another replica finds them, and last-writer-wins is right for them
 * (two quick messages can at worst drop an older pending offer, whose button then says so). Rows are
 * one per personal chat for each kind, overwritten in place, so they do not pile up. A button carries
 * only the pending message's random id, never its text or file links, so a tampered button can neither
 * plant text under someone's name nor make the bot fetch a link it was not sent.
 */

/** How long a follow-up joins the ticket just discussed. */
export const FOCUS_WINDOW_MS = 10 * 60_000;
/** How long a message waits for its button. */
export const PENDING_TTL_MS = 24 * 3_600_000;
/** Pending messages kept per chat: the latest few, so an older card's button still works a while. */
const PENDING_KEPT = 5;
/** Files' descriptions kept with a pending message (Teams sends a handful at most). */
const FILES_KEPT = 10;
const FILE_DESCRIPTION_MAX = 20_000;

export interface Focus {
  ticketId: number;
  personId: number;
  until: number;
}

export interface PendingMessage {
  id: string;
  personId: number;
  text: string;
  /** The message's attachments as Teams sent them (file download info, inline images, links). */
  attachments: unknown[];
  at: number;
  /** The ticket the message already joined as a follow-up, when it did ("That's a new request" then says so there). */
  joined?: number;
}

const focusKey = (conversationRefId: number) => `desk/focus/${conversationRefId}`;
const pendingKey = (conversationRefId: number) => `desk/pending/${conversationRefId}`;

export class RequestConversations {
  constructor(private readonly deps: { db: Db; clock: () => number; focusWindowMs?: number }) {}

  private now(): number {
    return this.deps.clock();
  }

  /** The ticket this person's chat is about, while a follow-up still joins it. */
  async focus(conversationRefId: number, personId: number): Promise<Focus | undefined> {
    const found = (await readState(this.deps.db, [focusKey(conversationRefId)])).get(focusKey(conversationRefId))?.value as Focus | undefined;
    if (!found || found.personId !== personId || !(found.until > this.now())) return undefined;
    return found;
  }

  /** The chat is about `ticketId` now: follow-ups within the window join it. */
  async setFocus(conversationRefId: number, personId: number, ticketId: number): Promise<void> {
    const focus: Focus = { ticketId, personId, until: this.now() + (this.deps.focusWindowMs ?? FOCUS_WINDOW_MS) };
    await writeState(this.deps.db, new Map([[focusKey(conversationRefId), focus]]), this.now());
  }

  async clearFocus(conversationRefId: number): Promise<void> {
    await deleteState(this.deps.db, [focusKey(conversationRefId)]);
  }

  /** Keeps a message until a button decides what it is; returns its id for the buttons. */
  async remember(conversationRefId: number, personId: number, text: string, attachments: readonly unknown[], joined?: number): Promise<string> {
    const now = this.now();
    const kept = (await this.pending(conversationRefId)).filter((p) => p.at + PENDING_TTL_MS > now);
    const files = attachments.slice(0, FILES_KEPT).filter((a) => JSON.stringify(a).length <= FILE_DESCRIPTION_MAX);
    const message: PendingMessage = { id: randomUUID(), personId, text, attachments: files, at: now, ...(joined !== undefined ? { joined } : {}) };
    await writeState(this.deps.db, new Map([[pendingKey(conversationRefId), { items: [...kept.slice(-(PENDING_KEPT - 1)), message] }]]), now);
    return message.id;
  }

  /** The pending message `id` of this person in this chat, if it is still waiting. */
  async pendingMessage(conversationRefId: number, personId: number, id: string): Promise<PendingMessage | undefined> {
    const found = (await this.pending(conversationRefId)).find((p) => p.id === id);
    if (!found || found.personId !== personId || found.at + PENDING_TTL_MS <= this.now()) return undefined;
    return found;
  }

  /** The message was dealt with: its buttons do nothing more (a second tap does not open a second ticket). */
  async settle(conversationRefId: number, id: string): Promise<void> {
    const items = await this.pending(conversationRefId);
    if (!items.some((p) => p.id === id)) return;
    await writeState(this.deps.db, new Map([[pendingKey(conversationRefId), { items: items.filter((p) => p.id !== id) }]]), this.now());
  }

  private async pending(conversationRefId: number): Promise<PendingMessage[]> {
    const value = (await readState(this.deps.db, [pendingKey(conversationRefId)])).get(pendingKey(conversationRefId))?.value as { items?: PendingMessage[] } | undefined;
    return Array.isArray(value?.items) ? value.items : [];
  }
}
