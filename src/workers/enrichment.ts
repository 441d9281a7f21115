import type { Logger } from '../logger.js';
import type { CrmEnrichment } from '../services/crm.js';
import { napUntil, PollingLoop } from './polling-loop.js';

/** Runs CRM lookups as they are queued (woken by new tickets and webhooks), and the ticket mirror. */
export class EnrichmentWorker {
  private readonly loop: PollingLoop;

  constructor(
    private readonly deps: { crm: CrmEnrichment; logger: Logger; pollIntervalMs?: number },
  ) {
    const poll = deps.pollIntervalMs ?? 30_000;
    this.loop = new PollingLoop({
      round: async () => {
        const looked = await deps.crm.runBatch();
        // Mirroring is paced by the loop; only lookups make it go round again at once.
        await deps.crm.mirrorTickets().catch((error) => deps.logger.warn({ err: error }, 'mirroring tickets to HubSpot failed; trying again later'));
        return looked;
      },
      idleDelay: async () => napUntil(await deps.crm.nextDueAt(), Date.now(), poll),
      onError: (error) => deps.logger.error({ err: error }, 'CRM enrichment round failed'),
    });
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
