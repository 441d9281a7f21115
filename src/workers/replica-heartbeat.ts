import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Database } from '../store/database.js';
import { beat, DEAD_AFTER_MS, HEARTBEAT_INTERVAL_MS, leave, replicaHeartbeats } from '../store/replicas.js';

/**
 * Tells the database this replica is alive and learns how many are: budgets that belong to the whole
 * deployment (Teams' per-tenant send rate) are split between live replicas so together they stay
 * within them. A replica that dies stops beating and drops out of the count within `liveMs`.
 *
 * Its id is also the owner name of every lease the replica's workers take (see store/replicas.ts
 * `leaseIsFree`): once a replica has not beaten for `deadAfterMs`, others may take over what it had
 * claimed. Each beat looks for replicas that just went quiet and calls `onDeath`, so idle workers look
 * for that work at once instead of at their next poll.
 */
export class ReplicaHeartbeat {
  readonly id = `replica-${randomUUID()}`;
  private timer: NodeJS.Timeout | undefined;
  private live = 1;
  private lastBeatAt: number | undefined;
  /** Quiet replicas already reported, so each death wakes the workers once. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly deps: {
      database: Database;
      logger: Logger;
      onCount: (replicas: number) => void;
      /** Told the ids of replicas that stopped beating, whose claims may now be taken over. */
      onDeath?: (replicaIds: string[]) => void;
      intervalMs?: number;
      liveMs?: number;
      deadAfterMs?: number;
    },
  ) {}

  get replicas(): number {
    return this.live;
  }

  async start(): Promise<void> {
    await this.beat();
    const interval = this.deps.intervalMs ?? HEARTBEAT_INTERVAL_MS;
    this.timer = setInterval(() => void this.beat(), interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await leave(this.deps.database.db, this.id).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const { database, logger } = this.deps;
    const deadAfterMs = this.deps.deadAfterMs ?? DEAD_AFTER_MS;
    try {
      const now = Date.now();
      if (this.lastBeatAt !== undefined && now - this.lastBeatAt > deadAfterMs) {
        logger.warn({ lateMs: now - this.lastBeatAt }, 'this replica could not beat for a while; other replicas may have taken over its claims');
      }
      const live = await beat(database.db, this.id, now, this.deps.liveMs ?? 30_000);
      this.lastBeatAt = now;
      if (live !== this.live) logger.info({ replicas: live }, 'replicas alive changed; sharing the Teams send budget between them');
      this.live = live;
      this.deps.onCount(live);
      await this.noticeDeaths(now, deadAfterMs);
    } catch (error) {
      logger.warn({ err: error }, 'replica heartbeat failed');
    }
  }

  private async noticeDeaths(now: number, deadAfterMs: number): Promise<void> {
    const replicas = await replicaHeartbeats(this.deps.database.db);
    const known = new Set(replicas.map((r) => r.id));
    for (const id of this.reported) if (!known.has(id)) this.reported.delete(id);
    const died = replicas.filter((r) => r.id !== this.id && r.heartbeatAt < now - deadAfterMs && !this.reported.has(r.id));
    if (died.length === 0) return;
    for (const r of died) this.reported.add(r.id);
    this.deps.logger.warn({ replicas: died.map((r) => r.id), lastHeartbeatAt: died.map((r) => r.heartbeatAt) }, 'replica stopped beating; taking over the work it had claimed');
    this.deps.onDeath?.(died.map((r) => r.id));
  }
}
