/**
 * A background loop that does a round of work, goes straight on while rounds find work, and otherwise
 * sleeps until the next known due time (or a poll interval), unless woken. Stopping lets the round in
 * progress finish. Shared by the outbox worker and the SLA sweeper.
 */
const MIN_IDLE_MS = 100;

export class PollingLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pendingWake = false;
  private pendingRecheck = false;

  constructor(
    private readonly work: {
      /** One round; returns how many items it handled. */
      round: () => Promise<number>;
      /** How long to sleep when a round found nothing. */
      idleDelay: () => Promise<number>;
      onError: (error: unknown) => void;
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
   * set): ask `idleDelay` again, without doing a round unless that says one is due now.
   */
  recheck(): void {
    if (!this.wakeUp) return;
    this.pendingRecheck = true;
    this.wakeUp();
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
        resolve();
      };
      this.wakeUp = done;
      this.timer = setTimeout(done, ms);
    });
  }
}
