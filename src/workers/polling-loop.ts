/**
 * A background loop that does a round of work, goes straight on while rounds find work, and otherwise
 * sleeps until the next known due time (or a poll interval), unless woken. Stopping lets the round in
 * progress finish. Shared by the outbox worker and the SLA sweeper.
 */
const MIN_IDLE_MS = 100;

/** How long to nap: until `next` is due, but never past the poll interval (others' work, clock drift). */
export function napUntil(next: number | undefined, now: number, pollIntervalMs: number): number {
  return next === undefined ? pollIntervalMs : Math.max(0, Math.min(pollIntervalMs, next - now));
}

export class PollingLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pendingWake = false;
  private pendingRecheck = false;
  /** When the current nap ends (wall clock); 0 while not napping. */
  private sleepUntil = 0;

  constructor(
    private readonly work: {
      /** One round; returns how many items it handled. */
      round: () => Promise<number>;
      /** How long to sleep when a round found nothing. */
      idleDelay: () => Promise<number>;
      onError: (error: unknown) => void;
      /**
       * How soon after a recheck() the loop asks idleDelay again. Rechecks within this time share one
       * look, so a busy desk (a recheck per ticket change) costs one idleDelay a second, not one each.
       */
      recheckAfterMs?: number;
    },
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Look now rather than after the sleep. */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  /**
   * Something new may be due sooner than the loop planned to sleep (a ticket was created, a reminder
   * set): shorten the nap to `recheckAfterMs`, then ask `idleDelay` again, without a round unless that
   * says one is due. Costs nothing now: no query, just a shorter timer.
   */
  recheck(): void {
    const wakeUp = this.wakeUp;
    const after = this.work.recheckAfterMs ?? 1_000;
    if (!wakeUp || this.sleepUntil <= Date.now() + after) return;
    this.pendingRecheck = true;
    clearTimeout(this.timer);
    this.sleepUntil = Date.now() + after;
    this.timer = setTimeout(wakeUp, after);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeUp?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.pendingWake = false;
      let handled = 0;
      try {
        handled = await this.work.round();
      } catch (error) {
        this.work.onError(error);
      }
      if (!this.running) break;
      if (handled > 0 || this.pendingWake) continue;
      let afterRound = true;
      do {
        this.pendingRecheck = false;
        let delay: number;
        try {
          delay = await this.work.idleDelay();
        } catch (error) {
          this.work.onError(error);
          delay = 1_000;
        }
        // stop() may have come while idleDelay was running, when there was no nap to cut short yet.
        if (!this.running) break;
        // Due now, yet the round just found nothing: it is someone else's (another replica's lease).
        // Look again shortly rather than spin.
        await this.sleep(afterRound && delay <= 0 ? MIN_IDLE_MS : delay);
        afterRound = false;
      } while (this.running && this.pendingRecheck && !this.pendingWake);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        this.sleepUntil = 0;
        resolve();
      };
      this.wakeUp = done;
      this.sleepUntil = Date.now() + ms;
      this.timer = setTimeout(done, ms);
    });
  }
}
