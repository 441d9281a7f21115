import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics, in a registry of its own (several services can run in one process,
 * as the tests do). Counters and histograms are updated where things happen; gauges that describe
 * stored state (outbox depth, open tickets, SLA events) are read when scraped, through `collectors`.
 */
export class Metrics {
  readonly registry = new Registry();
  private collectors: Array<(state: Metrics['state']) => Promise<void>> = [];
  // Registered first, so its collect (which refreshes every state gauge) runs before they are read.
  private readonly up = ((metrics: Metrics) =>
    new Gauge({
      name: 'servicedesk_up',
      help: 'The service answers; the state gauges were refreshed at this scrape.',
      registers: [metrics.registry],
      async collect() {
        for (const collect of metrics.collectors) await collect(metrics.state).catch(() => undefined);
        this.set(1);
      },
    }))(this);
  readonly turns = new Counter({ name: 'servicedesk_turns_total', help: 'Activities handled, by kind and outcome.', labelNames: ['kind', 'outcome'], registers: [this.registry] });
  readonly turnSeconds = new Histogram({ name: 'servicedesk_turn_duration_seconds', help: 'Time to handle an activity.', labelNames: ['kind'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly invokeSeconds = new Histogram({ name: 'servicedesk_invoke_duration_seconds', help: 'Time to answer a card action (Teams gives up after 5 s).', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 10], registers: [this.registry] });
  readonly sends = new Counter({ name: 'servicedesk_outbox_sends_total', help: 'Sends to Teams, by result.', labelNames: ['result'], registers: [this.registry] });
  readonly eventDeliveries = new Counter({ name: 'servicedesk_event_deliveries_total', help: 'Ticket events sent to integrations (webhooks, PagerDuty, Slack), by integration and outcome (sent, retry, throttled, dead).', labelNames: ['target', 'outcome'], registers: [this.registry] });
  readonly mailIngested = new Counter({ name: 'servicedesk_mail_ingested_total', help: 'Emails read from the mailbox, by what became of them (and why, when filtered).', labelNames: ['disposition', 'reason'], registers: [this.registry] });

  /** State read at scrape time (by `collectors`), named here so every scrape shows the same series. */
  readonly state = {
    outboxDepth: new Gauge({ name: 'servicedesk_outbox_depth', help: 'Messages waiting (pending) or given up on (dead), per outbox.', labelNames: ['outbox', 'status'], registers: [this.registry] }),
    outboxOldest: new Gauge({ name: 'servicedesk_outbox_oldest_pending_seconds', help: 'Age of the oldest message waiting to go to Teams.', registers: [this.registry] }),
    mailLag: new Gauge({ name: 'servicedesk_mail_sync_lag_seconds', help: 'Time since the mailbox was last read completely.', registers: [this.registry] }),
    hubspotCalls: new Gauge({ name: 'servicedesk_hubspot_calls_total', help: 'Requests made to HubSpot since start, and 429s among them.', labelNames: ['result'], registers: [this.registry] }),
    crmCacheHitRatio: new Gauge({ name: 'servicedesk_crm_cache_hit_ratio', help: 'Share of CRM lookups answered from the cache since start.', registers: [this.registry] }),
    openTickets: new Gauge({ name: 'servicedesk_open_tickets', help: 'Open tickets by status and priority.', labelNames: ['status', 'priority'], registers: [this.registry] }),
    slaEvents: new Gauge({ name: 'servicedesk_sla_events_total', help: 'SLA warnings and breaches recorded, by priority of the ticket.', labelNames: ['kind', 'priority'], registers: [this.registry] }),
    escalations: new Gauge({ name: 'servicedesk_escalations_total', help: 'Escalations by state.', labelNames: ['state'], registers: [this.registry] }),
  };

  /** Adds a reader of stored state, run at every scrape. */
  collect(collector: (state: Metrics['state']) => Promise<void>): void {
    this.collectors.push(collector);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** What an outbox send answered, as a metric label. */
export function sendResult(status: number | undefined, ok: boolean): string {
  if (ok) return 'ok';
  if (status === 429) return '429';
  if (status === 403) return '403';
  if (status !== undefined && status >= 500) return '5xx';
  if (status === undefined) return 'network';
  return 'other';
}
