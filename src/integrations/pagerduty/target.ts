import { createHash } from 'node:crypto';
import { parseRetryAfter } from '../../domain/backoff.js';
import type { DeskEvent, TicketSnapshot } from '../../domain/desk-events.js';
import type { WindowRule } from '../../domain/rate-limit.js';
import { TargetError, type DeliveryContext, type DeliveryResult, type NotifyTarget } from '../notify/target.js';
import { alertSummary, customDetails, severityOf, truncate } from './alert-text.js';

/**
 * PagerDuty through the Events API v2: a rule's event triggers an alert whose `dedup_key` is the
 * ticket's, so every page about one ticket lands on one alert; the ticket's own follow-ups acknowledge
 * it (someone took the ticket) and resolve it (the ticket was resolved or closed).
 *
 * Sources (PagerDuty's developer documentation):
 * - overview, response codes and retry advice:
 *   https://developer.pagerduty.com/docs/events-api-v2/overview/
 *   (source: https://github.com/PagerDuty/developer-docs/blob/main/docs/events-API-v2/01-Overview.md)
 * - send an alert event (fields, limits, de-duplication):
 *   https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 *   (source: https://github.com/PagerDuty/developer-docs/blob/main/docs/events-API-v2/02-Trigger-Events.md)
 * - rate limits: https://developer.pagerduty.com/docs/events-api-v2/rate-limits/
 *   (source: https://github.com/PagerDuty/developer-docs/blob/main/docs/events-API-v2/05-Rate-Limits.md)
 * - response bodies: https://github.com/PagerDuty/api-schema/blob/main/reference/events-v2/openapiv3.json
 *
 * One request per delivery (two for a test event): retries, Retry-After and dead letters are the
 * delivery worker's; this class only says what PagerDuty's answer means.
 */

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/**
 * "approximately 120 calls/minute per integration key … calculated over a 60 second window looking
 * back from the current time" (rate limits page above). "Approximately": we keep to 110, so the
 * requests' travel time never tips a window over and draws a 429 (and its 30 s pause). The worker keeps
 * every event of this target in one lane (one routing key), so a burst of breaches queues instead.
 */
export const PAGERDUTY_EVENTS_LIMITS: readonly WindowRule[] = [{ limit: 110, windowMs: 60_000 }];

/**
 * A 429 without Retry-After: the rate limits page suggests "retrying 3 times with each request being
 * 30 seconds apart"; the overview asks for "a backoff of a few minutes", which the worker's growing
 * backoff gives on later throttles.
 */
export const PAGERDUTY_DEFAULT_THROTTLE_MS = 30_000;

/** Per request, when the worker's signal has not fired first. */
export const PAGERDUTY_DEFAULT_TIMEOUT_MS = 10_000;

/** `dedup_key`: "The maximum permitted length of this property is 255 characters" (send an alert event). */
const DEDUP_KEY_MAX = 255;

/**
 * "the 32 character Integration Key for an integration on a service or on a global ruleset" (send an
 * alert event). Service keys are hex, ruleset keys start with R; both are letters and digits.
 */
const ROUTING_KEY_SHAPE = /^[A-Za-z0-9]{32}$/;

const DONE_STATUSES = new Set(['resolved', 'closed']);

export interface PagerDutyTargetOptions {
  /** The integration's name from the config file. */
  name: string;
  /** The Events API v2 integration key (from the environment; never logged or shown). */
  routingKey: string;
  /** Default https://events.pagerduty.com/v2/enqueue (an EU account uses events.eu.pagerduty.com). */
  eventsUrl?: string;
  /** A link to the ticket, shown on the alert (`links`, `client_url`); undefined: no link. */
  ticketUrl?: (ticket: TicketSnapshot) => string | undefined;
  /** `payload.source` and the start of every dedup_key. Default 'teams-service-desk'. */
  source?: string;
  /** `client`: who sent the alert, as PagerDuty shows it. Default 'Teams Service Desk'. */
  client?: string;
  /** Per request; the worker's signal may end it sooner. Default 10 s. */
  timeoutMs?: number;
  /** The fetch to send with (default the global one: Node's undici). */
  fetch?: typeof fetch;
}

type EventAction = 'trigger' | 'acknowledge' | 'resolve';

/** What a delivery does for an event: a request to send, or nothing. */
type Plan = { action: EventAction; dedupKey: string } | { action: 'skip'; why: string };

export class PagerDutyTarget implements NotifyTarget {
  readonly kind = 'pagerduty' as const;
  readonly followsTickets = true;
  readonly limits = PAGERDUTY_EVENTS_LIMITS;
  readonly name: string;
  private readonly routingKey: string;
  /** A short hash of the routing key: names the lane and the key in `describe()` without giving it away. */
  private readonly keyId: string;
  private readonly eventsUrl: URL;
  private readonly source: string;
  private readonly client: string;
  private readonly timeoutMs: number;
  private readonly send: typeof fetch;

  constructor(private readonly options: PagerDutyTargetOptions) {
    this.name = options.name;
    // An environment variable often keeps a trailing newline; the key itself never has spaces.
    const routingKey = (options.routingKey ?? '').trim();
    if (!ROUTING_KEY_SHAPE.test(routingKey)) {
      // Never the key itself: only what is wrong with it.
      throw new Error(
        `PagerDuty target "${options.name}": the routing key must be the 32-character integration key of an Events API v2 integration ` +
          `(letters and digits); the one given has ${routingKey.length} character(s)${/[^A-Za-z0-9]/.test(routingKey) ? ' and others than letters and digits' : ''}`,
      );
    }
    this.routingKey = routingKey;
    this.keyId = createHash('sha256').update(routingKey).digest('hex').slice(0, 12);
    this.eventsUrl = eventsUrlOf(options.name, options.eventsUrl ?? PAGERDUTY_EVENTS_URL);
    this.source = (options.source ?? 'teams-service-desk').trim();
    if (this.source === '' || this.source.length > 100) {
      throw new Error(`PagerDuty target "${options.name}": source must be 1 to 100 characters (it starts every dedup_key, which PagerDuty caps at 255)`);
    }
    this.client = options.client ?? 'Teams Service Desk';
    this.timeoutMs = options.timeoutMs ?? PAGERDUTY_DEFAULT_TIMEOUT_MS;
    this.send = options.fetch ?? globalThis.fetch;
  }

  /** One routing key per target, so one lane: PagerDuty's limit is per integration key. */
  laneOf(_event: DeskEvent): string {
    return `pagerduty:${this.keyId}`;
  }

  describe(): string {
    return `PagerDuty Events API v2 at ${this.eventsUrl.host}${this.eventsUrl.pathname} (routing key #${this.keyId})`;
  }

  /** The alert of a ticket: stable, so PagerDuty groups every trigger about the ticket on one alert. */
  dedupKeyOf(ticket: TicketSnapshot): string {
    return `${this.source}-ticket-${ticket.id}`;
  }

  async deliver(event: DeskEvent, context: DeliveryContext): Promise<DeliveryResult> {
    if (event.test) return this.deliverTest(event, context);
    const plan = this.plan(event, context);
    if (plan.action === 'skip') return { skipped: true, summary: plan.why };
    const body = plan.action === 'trigger' ? this.triggerBody(event, plan.dedupKey) : this.followUpBody(plan.action, plan.dedupKey);
    const accepted = await this.post(body, context.signal);
    const dedupKey = accepted.dedupKey ?? plan.dedupKey;
    const summary = `${plan.action} accepted (dedup_key ${dedupKey})`;
    return plan.action === 'trigger' ? { summary, post: { externalId: dedupKey } } : { summary };
  }

  /**
   * What an event means for the ticket's alert.
   *
   * - The ticket is resolved or closed: resolve the alert we triggered, if any; never page about a
   *   ticket that is done, even when a rule matched the event (a rule on "any status change").
   * - A follow-up (a rule did not send it) of a ticket we paged about: acknowledge when someone took the
   *   ticket (assigned to a person, an escalation accepted); anything else is no news for a pager.
   * - A rule sent it: trigger. An alert that is already open only gets a log entry (no new incident),
   *   one already resolved is opened anew under the same dedup_key: a reopened ticket that breaches
   *   pages again, as PagerDuty's de-duplication intends (send an alert event, "Alert De-Duplication").
   *   A matched assignment or acceptance of a ticket we already paged about acknowledges instead: the
   *   news is that someone has it, and a trigger would not tell the responder that.
   */
  private plan(event: DeskEvent, context: DeliveryContext): Plan {
    const previous = this.previousKey(context);
    if (DONE_STATUSES.has(event.ticket.status)) {
      if (previous && event.type === 'ticket.status_changed') return { action: 'resolve', dedupKey: previous };
      // A rule matched: say why it did not page, so `integrations` and the logs explain the silence.
      return { action: 'skip', why: context.matched ? `nothing to tell PagerDuty: ${event.ticket.reference} is ${event.ticket.status}` : 'nothing to tell PagerDuty' };
    }
    if (previous && isTakenBySomeone(event)) return { action: 'acknowledge', dedupKey: previous };
    if (context.matched) return { action: 'trigger', dedupKey: this.dedupKeyOf(event.ticket) };
    return { action: 'skip', why: 'nothing to tell PagerDuty' };
  }

  /** The dedup_key we triggered for this ticket, checked: it goes back to PagerDuty as it is. */
  private previousKey(context: DeliveryContext): string | undefined {
    const key = context.previous?.externalId;
    if (key === undefined) return undefined;
    if (key === '' || key.length > DEDUP_KEY_MAX) {
      throw new TargetError('permanent', `the recorded PagerDuty dedup_key is not usable (${key.length} characters; PagerDuty takes 1 to ${DEDUP_KEY_MAX})`);
    }
    return key;
  }

  /**
   * `integrations test`: a real trigger, so the admin sees that the key routes somewhere and pages,
   * then a resolve of the same alert at once, so a test leaves no open incident for on-call to clean
   * up. The test's dedup_key is its own (never a ticket's), so it cannot touch a real alert. If the
   * resolve fails the delivery fails; the retry triggers the same dedup_key again, which only adds a
   * log entry to the open alert, and resolves it.
   */
  private async deliverTest(event: DeskEvent, context: DeliveryContext): Promise<DeliveryResult> {
    const dedupKey = truncate(`${this.source}-test-${event.id}`, DEDUP_KEY_MAX);
    const triggered = await this.post(this.triggerBody(event, dedupKey), context.signal);
    const key = triggered.dedupKey ?? dedupKey;
    await this.post(this.followUpBody('resolve', key), context.signal);
    return { summary: `test alert accepted and resolved (dedup_key ${key})` };
  }

  private triggerBody(event: DeskEvent, dedupKey: string): Record<string, unknown> {
    const link = this.linkOf(event.ticket);
    return {
      routing_key: this.routingKey,
      event_action: 'trigger',
      dedup_key: dedupKey,
      payload: {
        summary: alertSummary(event),
        source: this.source,
        severity: severityOf(event.ticket.priority),
        timestamp: event.occurredAt,
        component: event.ticket.type,
        group: event.ticket.tier,
        class: event.type,
        custom_details: customDetails(event),
      },
      client: this.client,
      ...(link ? { client_url: link, links: [{ href: link, text: `${event.ticket.reference} in the service desk` }] } : {}),
    };
  }

  /** acknowledge and resolve need only the key and the alert (send an alert event, example payloads). */
  private followUpBody(action: 'acknowledge' | 'resolve', dedupKey: string): Record<string, unknown> {
    return { routing_key: this.routingKey, event_action: action, dedup_key: dedupKey };
  }

  /** The ticket's link, when there is one and it is a web address PagerDuty can show. */
  private linkOf(ticket: TicketSnapshot): string | undefined {
    const link = this.options.ticketUrl?.(ticket);
    if (!link) return undefined;
    try {
      const url = new URL(link);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
    } catch {
      return undefined;
    }
  }

  /** One POST; PagerDuty's answer as a result or a TargetError (overview, "Response Codes & Retry Logic"). */
  private async post(body: Record<string, unknown>, workerSignal: AbortSignal): Promise<{ dedupKey: string | undefined }> {
    const signal = AbortSignal.any([workerSignal, AbortSignal.timeout(this.timeoutMs)]);
    let response: Response;
    let text: string;
    try {
      response = await this.send(this.eventsUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal,
        redirect: 'error',
      });
      text = await response.text();
    } catch (error) {
      if (signal.aborted) {
        throw new TargetError('transient', `PagerDuty did not answer in time (${this.eventsUrl.host})`, {}, { cause: error });
      }
      throw new TargetError('transient', `could not reach PagerDuty at ${this.eventsUrl.host}: ${this.redact(errorText(error))}`, {}, { cause: error });
    }
    const status = response.status;
    const answer = parseAnswer(text);
    if (status >= 200 && status < 300) {
      return { dedupKey: typeof answer?.dedup_key === 'string' && answer.dedup_key !== '' ? answer.dedup_key : undefined };
    }
    const reason = this.redact(reasonOf(answer, text));
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now()) ?? PAGERDUTY_DEFAULT_THROTTLE_MS;
      throw new TargetError('throttled', `PagerDuty is throttling this routing key (429${reason ? `: ${reason}` : ''})`, { status, retryAfterMs });
    }
    if (status >= 500 || status === 408) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
      throw new TargetError('transient', `PagerDuty answered ${status}${reason ? `: ${reason}` : ''}`, { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    }
    // 400 and every other 4xx: the same event would be refused again.
    throw new TargetError('permanent', `PagerDuty refused the event (${status})${reason ? `: ${reason}` : ''}`, { status });
  }

  /** PagerDuty's words may quote what we sent; the routing key never leaves in an error. */
  private redact(text: string): string {
    return text.split(this.routingKey).join('[routing key]');
  }
}

function eventsUrlOf(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`PagerDuty target "${name}": eventsUrl is not a URL`);
  }
  // The routing key travels in the body: plain http only to this machine (a test peer).
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`PagerDuty target "${name}": eventsUrl must be https (the routing key travels in the request body)`);
  }
  if (url.username || url.password || url.search) {
    throw new Error(`PagerDuty target "${name}": eventsUrl must not carry credentials or a query string`);
  }
  // The routing key goes only to PagerDuty (events.pagerduty.com, events.eu.pagerduty.com), never to a
  // host a rules file names by mistake or on purpose.
  if (!loopback && !/(^|\.)pagerduty\.com$/i.test(url.hostname)) {
    throw new Error(`PagerDuty target "${name}": eventsUrl must be a pagerduty.com address, such as https://events.pagerduty.com/v2/enqueue`);
  }
  return url;
}

/** An event that tells PagerDuty someone is on the ticket. */
function isTakenBySomeone(event: DeskEvent): boolean {
  if (event.type === 'escalation.accepted') return true;
  if (event.type === 'ticket.assigned') {
    const assignee = (event.data as { assignee?: unknown }).assignee;
    return assignee !== null && assignee !== undefined;
  }
  return false;
}

interface PagerDutyAnswer {
  status?: unknown;
  message?: unknown;
  errors?: unknown;
  dedup_key?: unknown;
}

function parseAnswer(text: string): PagerDutyAnswer | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as PagerDutyAnswer) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * "Event object is invalid: 'payload.summary' is missing or blank": the message and the `errors` list
 * of PagerDuty's error body (openapiv3.json, components.responses.Error), or the start of a body that is
 * not PagerDuty's JSON (a proxy's page).
 */
function reasonOf(answer: PagerDutyAnswer | undefined, text: string): string {
  if (!answer) return truncate(text.replace(/\s+/g, ' ').trim(), 300);
  const message = typeof answer.message === 'string' ? answer.message : typeof answer.status === 'string' ? answer.status : '';
  const errors = Array.isArray(answer.errors) ? answer.errors.filter((e): e is string => typeof e === 'string') : [];
  return truncate([message, errors.join('; ')].filter(Boolean).join(': '), 1000);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
  return code ? `${error.message} (${code})` : error.message;
}
