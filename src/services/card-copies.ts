import { recordCardPost } from '../store/card-posts.js';
import type { Database } from '../store/database.js';
import { enqueueCardUpdate } from '../store/outbox.js';
import { ticketVersions } from '../store/tickets.js';

/** How long posted card copies wait to be recorded together. */
const COPY_BATCH_MS = 20;

export interface CardCopy {
  ticketId: number;
  conversationRefId: number;
  activityId: string;
  /** The ticket version the posted card shows. */
  renderedVersion: number;
}

/**
 * Records the ticket cards turns post (e.g. the answer to `show`), so later changes update them in
 * place. Copies are written in batches (one transaction per batch rather than per card, which on a
 * busy desk is most of what a `show` costs); if the ticket moved on while a card was on its way, that
 * copy gets one more update. Losing a batch in a crash only means those copies stop updating.
 */
export class CardCopyRecorder {
  private readonly pending: CardCopy[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      database: Database;
      clock?: () => number;
      /** Called after a commit that queued outbox rows, so the worker looks at once. */
      onEnqueued?: () => void;
      /** A batch that could not be written (nobody awaits it to hear about it). */
      onError?: (error: unknown, what: string) => void;
    },
  ) {}

  record(copy: CardCopy): void {
    this.pending.push(copy);
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, COPY_BATCH_MS)).then(() => this.write());
  }

  /** Writes card copies still waiting for their batch (before shutdown). */
  async flush(): Promise<void> {
    await this.flushing;
  }

  private async write(): Promise<void> {
    // Rows are locked in one order (ticket, conversation), whoever writes them: on Postgres two
    // transactions taking the same rows in opposite orders deadlock, and the loser waits a second first.
    const copies = this.pending.splice(0).sort((a, b) => a.ticketId - b.ticketId || a.conversationRefId - b.conversationRefId);
    this.flushing = undefined;
    if (copies.length === 0) return;
    const now = (this.deps.clock ?? Date.now)();
    for (let attempt = 1; ; attempt++) {
      try {
        const queued = await this.deps.database.db.transaction().execute(async (tx) => {
          const versions = await ticketVersions(tx, [...new Set(copies.map((c) => c.ticketId))]);
          let queued = false;
          for (const copy of copies) {
            // Kind "show": a card someone asked for does not take over from the card posted with the
            // ticket (in a channel, that one is the root of the ticket's thread).
            const postId = await recordCardPost(tx, { ticketId: copy.ticketId, conversationRefId: copy.conversationRefId, activityId: copy.activityId, kind: 'show' }, now);
            const current = versions.get(copy.ticketId);
            if (postId === undefined || current === undefined || current <= copy.renderedVersion) continue;
            await enqueueCardUpdate(tx, { postId, conversationRefId: copy.conversationRefId, activityId: copy.activityId, ticketId: copy.ticketId, cardKind: 'show', version: current }, now);
            queued = true;
          }
          return queued;
        });
        if (queued) this.deps.onEnqueued?.();
        return;
      } catch (error) {
        // A deadlock with another writer (Postgres picks a victim): the batch is safe to write again.
        if ((error as { code?: string }).code === '40P01' && attempt < 3) continue;
        this.deps.onError?.(error, 'could not record posted ticket cards; they will not update in place');
        return;
      }
    }
  }
}
