import { deskEventId, DESK_EVENT_VERSION, type DeskEvent } from '../domain/desk-events.js';
import { BUILT_IN_RULES, type NotifyRule } from '../domain/notify-rules.js';
import { deskRefusal } from '../domain/roles.js';
import { TargetError } from '../integrations/notify/target.js';
import type { Db } from '../store/database.js';
import { deliveryCounts } from '../store/event-deliveries.js';
import type { ConfiguredTarget, EventDeliveryWorker } from '../workers/event-delivery-worker.js';
import type { Actor } from './actors.js';
import type { Result } from './result.js';

/**
 * What admins see of the desk's integrations in chat: the rules (built-in, then the file's), each
 * integration with its queue and last outcome, and `integrations test <name>`, which sends a test
 * event straight to the target (not through the queue: the admin is waiting) and says what came back.
 */

export interface IntegrationLine {
  name: string;
  kind: string;
  where: string;
  pending: number;
  dead: number;
  sent: number;
  lastError: string | undefined;
}

export interface IntegrationsOverview {
  rules: NotifyRule[];
  integrations: IntegrationLine[];
  source: string;
}

/** How long a test may take: the answer goes back in the same turn. */
const TEST_TIMEOUT_MS = 8_000;

export class IntegrationDirectory {
  constructor(
    private readonly deps: {
      db: Db;
      targets: ReadonlyMap<string, ConfiguredTarget>;
      rules: readonly NotifyRule[];
      source: string;
      worker?: EventDeliveryWorker;
      clock?: () => number;
    },
  ) {}

  async overview(actor: Actor): Promise<Result<IntegrationsOverview>> {
    const refused = deskRefusal(actor.role, 'integrations');
    if (refused) return { ok: false, reason: refused, denied: true };
    const counts = await deliveryCounts(this.deps.db);
    const integrations = [...this.deps.targets].map(([name, { target }]) => {
      const c = counts.get(name) ?? { pending: 0, dead: 0, sent: 0 };
      return { name, kind: target.kind, where: target.describe(), ...c, lastError: this.deps.worker?.lastErrorOf(name) };
    });
    return { ok: true, value: { rules: [...BUILT_IN_RULES, ...this.deps.rules], integrations, source: this.deps.source }, notice: `${integrations.length} integration(s)` };
  }

  /** Sends a test event to one integration and says, in plain words, what it answered. */
  async test(actor: Actor, name: string): Promise<Result<string>> {
    const refused = deskRefusal(actor.role, 'integrations');
    if (refused) return { ok: false, reason: refused, denied: true };
    const configured = this.deps.targets.get(name.trim().toLowerCase());
    if (!configured) {
      const known = [...this.deps.targets.keys()];
      return { ok: false, reason: known.length > 0 ? `there is no integration named "${name}"; the configured ones are ${known.join(', ')}` : 'no integrations are configured (set NOTIFY_CONFIG)' };
    }
    const { target } = configured;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TargetError('transient', `no answer within ${TEST_TIMEOUT_MS / 1000} s`)), TEST_TIMEOUT_MS);
    try {
      const result = await Promise.race([
        target.deliver(testEvent(actor, (this.deps.clock ?? Date.now)()), { previous: undefined, matched: true, signal: controller.signal }),
        new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })),
      ]);
      return { ok: true, value: `${name} (${target.describe()}) answered: ${result.summary}`, notice: `Test event delivered to ${name}` };
    } catch (error) {
      const failure = error instanceof TargetError ? error : new TargetError('transient', error instanceof Error ? error.message : String(error));
      const next =
        failure.kind === 'permanent'
          ? 'Check the integration’s settings: sending again will not help.'
          : failure.kind === 'throttled'
            ? 'It asked us to slow down; real events wait and go out in order.'
            : 'Real events are retried with backoff, so nothing is lost while it is down.';
      return { ok: false, reason: `${name} (${target.describe()}) failed: ${failure.details.status ? `${failure.details.status}, ` : ''}${failure.message}. ${next}` };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A made-up ticket event, marked as a test, so receivers can tell it from real ones. */
function testEvent(actor: Actor, now: number): DeskEvent {
  const at = new Date(now).toISOString();
  return {
    id: deskEventId('test', now.toString(36)),
    type: 'ticket.created',
    version: DESK_EVENT_VERSION,
    occurredAt: at,
    actor: { name: actor.person.name, email: actor.person.email },
    test: true,
    ticket: {
      id: 0,
      reference: 'TEST-0',
      subject: 'Test event from Teams Service Desk',
      type: 'incident',
      status: 'new',
      priority: 'P4',
      tier: 'standard',
      teamId: null,
      requester: { name: actor.person.name, email: actor.person.email },
      assignee: null,
      version: 1,
      createdAt: at,
      dueAt: null,
    },
    data: { source: 'integrations test' },
  };
}
