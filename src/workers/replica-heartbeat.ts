import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Database } from '../store/database.js';
import { beat, leave } from '../store/replicas.js';

/**
 * Tells the database this replica is alive and learns how many are: budgets that belong to the whole
 * deployment (Teams' per-tenant send rate) are split between live replicas so together they stay
 * within them. A replica that dies stops beating and drops out of the count within `liveMs`.
 */
export class ReplicaHeartbeat {
  readonly id = `replica-${randomUUID()}`;
  private timer: NodeJS.Timeout | undefined;
  private live = 1;

  constructor(
    private readonly deps: { database: Database; logger: Logger; onCount: (replicas: number) => void; intervalMs?: number; liveMs?: number },
  ) {}

  get replicas(): number {
    return this.live;
  }

  async start(): Promise<void> {
    await this.beat();
    const interval = this.deps.intervalMs ?? 5_000;
    this.timer = setInterval(() => void this.beat(), interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await leave(this.deps.database.db, this.id).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    try {
      const live = await beat(this.deps.database.db, this.id, Date.now(), this.deps.liveMs ?? 30_000);
      if (live !== this.live) this.deps.logger.info({ replicas: live }, 'replicas alive changed; sharing the Teams send budget between them');
      this.live = live;
      this.deps.onCount(live);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'replica heartbeat failed');
    }
  }
}
