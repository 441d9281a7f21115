import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FlakyPeer } from './flaky.js';

/**
 * PagerDuty's Events API v2 (`POST /v2/enqueue`) on loopback, checking events the way the real one
 * does and keeping what an on-call responder would see: one alert per routing key and dedup_key, in
 * the states triggered, acknowledged or resolved.
 *
 * - 202 `{status:'success', message:'Event processed', dedup_key}` for a good event;
 * - 400 `{status:'invalid event', message:'Event object is invalid', errors:[…]}` for a missing or bad
 *   field (routing_key of 32 characters, event_action, payload.summary ≤ 1024, payload.source,
 *   payload.severity, dedup_key ≤ 255 and required for acknowledge/resolve, links/images, custom_details);
 * - 429 past the per-key limit (about 120 a minute over a sliding 60 s window);
 * - scripted answers for the next requests: 429 with or without Retry-After, 5xx, a request left hanging;
 * - with `flaky` set, random faults (429 with Retry-After, 503, no answer) for a share of good-looking
 *   requests, decided before the event is applied: a refused or unanswered event changes no alert.
 *
 * De-duplication as documented: a trigger for an open alert adds to it, one for a resolved (or no)
 * alert opens a new one; acknowledge and resolve of no open alert are dropped.
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ (Alert De-Duplication),
 * https://developer.pagerduty.com/docs/events-api-v2/overview/ (response codes),
 * https://developer.pagerduty.com/docs/events-api-v2/rate-limits/ (limits),
 * https://github.com/PagerDuty/api-schema/blob/main/reference/events-v2/openapiv3.json (bodies).
 */

export type AlertStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface FakeAlert {
  routingKey: string;
  dedupKey: string;
  status: AlertStatus;
  /** Incidents opened under this key (a trigger after a resolve opens another). */
  incidents: number;
  triggers: number;
  acknowledges: number;
  resolves: number;
  /** acknowledge/resolve events that found no open alert. */
  dropped: number;
  /** The last trigger's body as received. */
  lastTrigger: Record<string, unknown> | undefined;
}

export type ScriptedAnswer =
  | { kind: 429; retryAfter?: string }
  | { kind: 500 | 502 | 503 | 504; retryAfter?: string }
  | { kind: 'hang' }
  /** Any answer at all (e.g. a 400 whose errors quote the body). */
  | { kind: 'raw'; status: number; body: unknown };

export interface ReceivedRequest {
  at: number;
  status: number | 'hung';
  body: Record<string, unknown> | undefined;
  contentType: string | undefined;
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
/** 512 KB (overview, "Size Limits"). */
const MAX_BODY_BYTES = 512 * 1024;

export class FakePagerDuty {
  readonly requests: ReceivedRequest[] = [];
  /** Keys that route somewhere: another 32-character key is "Invalid routing key". */
  readonly routingKeys = new Set<string>();
  /** Per routing key, over 60 s. */
  limitPerMinute = 120;
  /** Random faults (seeded), keyed `<dedup_key> <event_action>`. */
  flaky: FlakyPeer | undefined;
  /** Requests left hanging (scripted): the client's timeout must give them up. */
  readonly hung: IncomingMessage[] = [];
  private readonly alerts = new Map<string, FakeAlert>();
  private readonly script: ScriptedAnswer[] = [];
  private readonly recent = new Map<string, number[]>();
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly closeWaiters: Array<() => void> = [];
  private closedHangs = 0;
  private server: Server;
  private base = '';

  constructor(...routingKeys: string[]) {
    for (const key of routingKeys) this.routingKeys.add(key);
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get eventsUrl(): string {
    return `${this.base}/v2/enqueue`;
  }

  /** Answers for the next requests, in order, before anything is checked. */
  answerNext(...answers: ScriptedAnswer[]): void {
    this.script.push(...answers);
  }

  alert(dedupKey: string, routingKey?: string): FakeAlert | undefined {
    return [...this.alerts.values()].find((a) => a.dedupKey === dedupKey && (routingKey === undefined || a.routingKey === routingKey));
  }

  /** Alerts not resolved: what would still be paging someone. */
  openAlerts(): FakeAlert[] {
    return [...this.alerts.values()].filter((a) => a.status !== 'resolved');
  }

  /** Resolves when `count` requests have arrived in all. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Resolves when the client has closed a hung request's connection (it gave up, as it should). */
  hangClosed(): Promise<void> {
    if (this.closedHangs > 0) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private record(request: ReceivedRequest): void {
    this.requests.push(request);
    for (const waiter of this.waiters.filter((w) => this.requests.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      chunks.push(chunk);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(raw);
      body = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    const contentType = req.headers['content-type'];
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      this.record({ at: Date.now(), status, body, contentType });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };

    const scripted = this.script.shift();
    if (scripted?.kind === 'hang') {
      this.hung.push(req);
      res.on('close', () => {
        this.closedHangs++;
        for (const resolve of this.closeWaiters.splice(0)) resolve();
      });
      this.record({ at: Date.now(), status: 'hung', body, contentType });
      return;
    }
    const random = scripted ? undefined : this.flaky?.next(`${String(body?.dedup_key)} ${String(body?.event_action)}`);
    if (random?.kind === 'hang') {
      // Never answered and never applied: the sender's timeout must fire, and it must send again.
      this.hung.push(req);
      this.record({ at: Date.now(), status: 'hung', body, contentType });
      return;
    }
    if (random) {
      return random.kind === 429
        ? send(429, { status: 'throttle event', message: 'Request Limit Exceeded' }, { 'retry-after': String(random.retryAfterSeconds) })
        : send(503, { status: 'error', message: 'Service Unavailable' });
    }
    if (scripted?.kind === 'raw') return send(scripted.status, scripted.body);
    if (scripted?.kind === 429) {
      return send(429, { status: 'throttle event', message: 'Request Limit Exceeded' }, scripted.retryAfter ? { 'retry-after': scripted.retryAfter } : {});
    }
    if (scripted) {
      return send(scripted.kind, { status: 'error', message: 'Internal Server Error' }, scripted.retryAfter ? { 'retry-after': scripted.retryAfter } : {});
    }

    if (req.method !== 'POST' || new URL(req.url ?? '/', this.base).pathname !== '/v2/enqueue') return send(404, { status: 'not found', message: 'Not found' });
    if (size > MAX_BODY_BYTES) return send(413, { status: 'request too large', message: 'Request Entity Too Large' });
    if (!body) return send(400, { status: 'Unrecognized object', message: 'Event object format is unrecognized', errors: ['JSON parse error'] });

    const errors = validate(body);
    const routingKey = typeof body.routing_key === 'string' ? body.routing_key : '';
    if (errors.length === 0 && !this.routingKeys.has(routingKey)) errors.push('Invalid routing key');
    if (errors.length > 0) return send(400, { status: 'invalid event', message: 'Event object is invalid', errors });

    const now = Date.now();
    const recent = (this.recent.get(routingKey) ?? []).filter((t) => t > now - 60_000);
    if (recent.length >= this.limitPerMinute) {
      this.recent.set(routingKey, recent);
      return send(429, { status: 'throttle event', message: 'Request Limit Exceeded' });
    }
    recent.push(now);
    this.recent.set(routingKey, recent);

    const dedupKey = typeof body.dedup_key === 'string' && body.dedup_key !== '' ? body.dedup_key : randomUUID();
    this.apply(routingKey, dedupKey, body.event_action as string, body);
    send(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  }

  private apply(routingKey: string, dedupKey: string, action: string, body: Record<string, unknown>): void {
    const id = `${routingKey}\n${dedupKey}`;
    const alert = this.alerts.get(id);
    const open = alert !== undefined && alert.status !== 'resolved';
    if (action === 'trigger') {
      if (!alert) {
        this.alerts.set(id, { routingKey, dedupKey, status: 'triggered', incidents: 1, triggers: 1, acknowledges: 0, resolves: 0, dropped: 0, lastTrigger: body });
        return;
      }
      alert.triggers++;
      alert.lastTrigger = body;
      // A trigger on an open alert only adds to its log; after a resolve it opens a new one.
      if (!open) {
        alert.incidents++;
        alert.status = 'triggered';
      }
      return;
    }
    if (!alert || !open) {
      if (alert) alert.dropped++;
      else this.alerts.set(id, { routingKey, dedupKey, status: 'resolved', incidents: 0, triggers: 0, acknowledges: 0, resolves: 0, dropped: 1, lastTrigger: undefined });
      return;
    }
    if (action === 'acknowledge') {
      alert.acknowledges++;
      alert.status = 'acknowledged';
    } else {
      alert.resolves++;
      alert.status = 'resolved';
    }
  }
}

/** The checks of the real API, each failure in words like PagerDuty's. */
function validate(body: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const blank = (value: unknown) => typeof value !== 'string' || value.trim() === '';
  if (blank(body.routing_key)) errors.push("'routing_key' is missing or blank");
  else if ((body.routing_key as string).length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (blank(body.event_action)) errors.push("'event_action' is missing or blank");
  else if (!ACTIONS.includes(body.event_action as string)) errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
  if (body.dedup_key !== undefined) {
    if (typeof body.dedup_key !== 'string') errors.push("'dedup_key' must be a string");
    else if (Array.from(body.dedup_key).length > 255) errors.push("Length of 'dedup_key' is too long (maximum is 255 characters)");
  }
  const action = body.event_action;
  if ((action === 'acknowledge' || action === 'resolve') && blank(body.dedup_key)) errors.push("'dedup_key' is missing or blank");
  if (action === 'trigger') {
    const payload = body.payload;
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      errors.push("'payload' is missing or blank");
    } else {
      const p = payload as Record<string, unknown>;
      if (blank(p.summary)) errors.push("'payload.summary' is missing or blank");
      else if (Array.from(p.summary as string).length > 1024) errors.push("Length of 'payload.summary' is too long (maximum is 1024 characters)");
      if (blank(p.source)) errors.push("'payload.source' is missing or blank");
      if (blank(p.severity)) errors.push("'payload.severity' is missing or blank");
      else if (!SEVERITIES.includes(p.severity as string)) errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
      if (p.timestamp !== undefined && (typeof p.timestamp !== 'string' || Number.isNaN(Date.parse(p.timestamp)))) errors.push("'payload.timestamp' is invalid");
      if (p.custom_details !== undefined && (p.custom_details === null || typeof p.custom_details !== 'object')) errors.push("'payload.custom_details' must be an object");
    }
    for (const [field, required] of [['links', 'href'], ['images', 'src']] as const) {
      const list = body[field];
      if (list === undefined) continue;
      if (!Array.isArray(list)) errors.push(`'${field}' must be an array`);
      else if (list.some((item) => item === null || typeof item !== 'object' || blank((item as Record<string, unknown>)[required]))) errors.push(`'${field}[].${required}' is missing or blank`);
    }
  }
  return errors;
}
