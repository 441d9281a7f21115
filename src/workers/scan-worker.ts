import type { Logger } from '../logger.js';
import type { AttachmentScanning } from '../services/attachments/scanning.js';
import { napUntil, PollingLoop } from './polling-loop.js';

/** Scans kept files as they arrive (woken when files are kept) and retries those put off. */
export class ScanWorker {
  private readonly loop: PollingLoop;

  constructor(private readonly deps: { scanning: AttachmentScanning; logger: Logger; pollIntervalMs?: number }) {
    const poll = deps.pollIntervalMs ?? 30_000;
    this.loop = new PollingLoop({
      round: () => deps.scanning.runBatch(),
      idleDelay: async () => napUntil(await deps.scanning.nextDueAt(), Date.now(), poll),
      onError: (error) => deps.logger.error({ err: error }, 'malware scan round failed; retrying at the next poll'),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Files were kept: scan them now rather than at the next poll. */
  wake(): void {
    this.loop.wake();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
