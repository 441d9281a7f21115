import type { NotifySettings } from '../../config.js';
import type { TicketSnapshot } from '../../domain/desk-events.js';
import type { IntegrationSpec } from '../../notify-config.js';
import type { ConfiguredTarget } from '../../workers/event-delivery-worker.js';
import { PagerDutyTarget } from '../pagerduty/target.js';
import { SlackApi } from '../slack/client.js';
import { SlackTarget } from '../slack/target.js';
import { WebhookTarget } from '../webhook/target.js';

/**
 * The targets of the integrations NOTIFY_CONFIG names, built once at start. A target that cannot be
 * built (a malformed routing key, a webhook URL that is not allowed) stops the start with its reason,
 * as a bad setting does.
 */
export function buildTargets(
  specs: readonly IntegrationSpec[],
  settings: NotifySettings,
  options: { ticketUrl?: (ticket: TicketSnapshot) => string | undefined; slack?: SlackApi } = {},
): Map<string, ConfiguredTarget> {
  const targets = new Map<string, ConfiguredTarget>();
  for (const spec of specs) {
    try {
      targets.set(spec.name, { target: buildTarget(spec, settings, options), retryForMs: spec.retryForMs });
    } catch (error) {
      throw new Error(`integration "${spec.name}" (${spec.type}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  return targets;
}

function buildTarget(spec: IntegrationSpec, settings: NotifySettings, options: { ticketUrl?: (ticket: TicketSnapshot) => string | undefined; slack?: SlackApi }) {
  switch (spec.type) {
    case 'webhook':
      return new WebhookTarget({ name: spec.name, url: spec.url, secrets: spec.secrets, allowLoopback: spec.allowLoopback, allowPrivate: spec.allowPrivateAddresses, ...(spec.maxPerSecond ? { maxPerSecond: spec.maxPerSecond } : {}) });
    case 'pagerduty':
      return new PagerDutyTarget({ name: spec.name, routingKey: spec.routingKey, eventsUrl: spec.eventsUrl ?? settings.pagerDutyEventsUrl, ...(options.ticketUrl ? { ticketUrl: options.ticketUrl } : {}) });
    case 'slack':
      if (!options.slack) throw new Error('SLACK_BOT_TOKEN is not set');
      return new SlackTarget({ name: spec.name, channel: spec.channel, client: options.slack });
  }
}
