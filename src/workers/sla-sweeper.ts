import { correlationId, withCorrelation } from '../log-context.js';
import type { Logger } from '../logger.js';
import type { EscalationService } from '../services/escalations.js';
import type { DigestService } from '../services/digests.js';
import type { ReminderService } from '../services/reminders.js';
import type { SlaService } from '../services/sla.js';
import type { Database } from '../store/database.js';
import { nextEscalationTimeoutAt } from '../store/escalations.js';
import { nextReminderAt } from '../store/reminders.js';
import { claimSlaChecks, nextSlaCheckAt } from '../store/sla.js';
import { napUntil, PollingLoop } from './polling-loop.js';

export interface SlaSweeperOptions {
  /** Longest sleep between sweeps, even when nothing is known to be due (another replica's tickets). */
  pollIntervalMs: number;
  batchSize: number;
  /**
   * How long a claimed ticket stays ours; a sweeper that dies releases its tickets when this runs out,
   * or sooner when its replica is seen to have stopped beating.
   */
  leaseMs: number;
  /**
   * false: no loop; sweeps happen only when sweepOnce() is called. For a clock that is not the wall
   * clock (tests moving time by hand), where a loop timing its naps by it would sweep at random moments.
   */
  automatic: boolean;
}

export const DEFAULT_SLA_SWEEPER_OPTIONS: SlaSweeperOptions = { pollIntervalMs: 30_000, batchSize: 200, leaseMs: 60_000, automatic: true };

/**
 * The timed work of the desk: SLA checks, escalation timeouts, reminders and the morning digests. Looks only at tickets whose next SLA check has come (an indexed column), in bounded batches, so a
 * sweep costs what is due rather than what is open; each ticket's events are decided and recorded by
 * the SLA service, once.
 */
export class SlaSweeper {
  private readonly options: SlaSweeperOptions;
  private readonly loop: PollingLoop;
  private readonly clock: () => number;

  constructor(
    private readonly deps: {
      database: Database;
      sla: SlaService;
      escalations?: EscalationService;
      reminders?: ReminderService;
      digests?: DigestService;
      logger: Logger;
      clock?: () => number;
      options?: Partial<SlaSweeperOptions>;
      /** The replica id (ReplicaHeartbeat.id) its leases are held under, so others can tell when it died. */
      owner?: string;
    },
  ) {
    this.options = { ...DEFAULT_SLA_SWEEPER_OPTIONS, ...deps.options };
    this.clock = deps.clock ?? Date.now;
    this.loop = new PollingLoop({
      round: () => this.sweepOnce(),
      idleDelay: () => this.idleDelay(),
      onError: (error) => deps.logger.error({ err: error }, 'SLA sweep failed; retrying at the next poll'),
    });
  }

  start(): void {
    if (this.options.automatic) this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  /** A due time may have moved closer (new ticket, reminder, escalation): sleep only as long as it allows. */
  recheck(): void {
    this.loop.recheck();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One bounded batch of due tickets; returns how many were looked at. */
  async sweepOnce(): Promise<number> {
    const { database, sla, logger } = this.deps;
    const claimed = await claimSlaChecks(database.db, database.dialect, {
      now: this.clock(),
      limit: this.options.batchSize,
      leaseMs: this.options.leaseMs,
      // Heartbeats are on the wall clock, whatever clock the desk keeps.
      ...(this.deps.owner ? { owner: this.deps.owner, heartbeatNow: Date.now() } : {}),
    });
    for (const ticketId of claimed) {
      await withCorrelation(correlationId('ticket', ticketId), async () => {
        try {
          const sent = await sla.sweep(ticketId);
          if (sent.length > 0) logger.info({ ticketId, events: sent.map((e) => `${e.clock}:${e.kind}:${e.threshold}`) }, 'SLA events sent');
        } catch (error) {
          // Its lease runs out and a later sweep tries again; the rest of the batch goes on.
          logger.error({ err: error, ticketId }, 'SLA sweep of a ticket failed');
        }
      });
    }
    const escalated = (await this.deps.escalations?.timeouts(this.options.batchSize)) ?? 0;
    const reminded = (await this.deps.reminders?.fireDue(this.options.batchSize)) ?? 0;
    // Digests are counted apart: sending one is no reason to sweep again at once.
    await this.deps.digests?.sendDue();
    return claimed.length + escalated + reminded;
  }

  private async idleDelay(): Promise<number> {
    const db = this.deps.database.db;
    const known = [await nextSlaCheckAt(db), await nextEscalationTimeoutAt(db), await nextReminderAt(db)].filter((at): at is number => at !== undefined);
    return napUntil(known.length > 0 ? Math.min(...known) : undefined, this.clock(), this.options.pollIntervalMs);
  }
}
