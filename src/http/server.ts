import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import restify, { type Request, type Response, type Server } from 'restify';
import { correlationId, withCorrelation } from '../log-context.js';
import type { Logger } from '../logger.js';
import { isLoopbackHost } from '../config.js';
import { checkInboundActivity } from './activity-schema.js';
import { jsonBody } from './json-body.js';
import { parseGraphNotifications } from './graph-notifications.js';
import { parseHubSpotEvents } from './hubspot-webhooks.js';
import { verifyV3 } from '../domain/hubspot-signature.js';
import { registerAttachmentRoutes, type AttachmentDownloads } from './attachments.js';

/** What the HTTP layer needs from the bot: the adapter's `process`, wrapped by the teams folder. */
export interface MessageEndpoint {
  process(req: Request, res: Response): Promise<void>;
}

export interface HttpServerDeps {
  logger: Logger;
  messages: MessageEndpoint;
  /** Readiness per dependency; the replica is ready while its database is. */
  health: { report(): Promise<{ ready: boolean; checks: Record<string, { status: string; lastError?: string }> }> };
  /** Prometheus metrics, and the bearer token that guards them and /readyz's details (when set). */
  metrics?: { registry: { metrics(): Promise<string>; contentType: string }; turns: { inc(labels: { kind: string; outcome: string }): void }; turnSeconds: { observe(labels: { kind: string }, v: number): void }; invokeSeconds: { observe(v: number): void } };
  metricsToken?: string | undefined;
  maxBodyBytes: number;
  /** Microsoft Graph change notifications for the support mailbox, when email is on. */
  graphNotifications?: GraphNotificationSink;
  /** HubSpot webhooks, when HubSpot is on. */
  hubspotWebhooks?: HubSpotWebhookSink;
  /** Ticket files behind signed links (`GET /api/attachments/:key`). */
  attachments?: AttachmentDownloads;
  /** Slack's interactivity (buttons) and `/ticket` command requests, when Slack is on. */
  slack?: { handle(kind: 'interactivity' | 'commands', rawBody: string, headers: Record<string, string | string[] | undefined>): Promise<{ status: number; body: unknown }> };
  /** Linear's and Jira's webhooks (issue states, comments), when a tracker is connected. */
  trackerWebhooks?: { receive(tracker: 'linear' | 'jira', rawBody: string, headers: Record<string, string | string[] | undefined>): Promise<{ status: number; body: unknown }> };
}

export interface HubSpotWebhookSink {
  /** The client secret that signs webhooks; undefined → every webhook is refused. */
  secret: string | undefined;
  /** The public URL HubSpot calls, when a proxy in front changes it; else the request's own. */
  publicUrl: string | undefined;
  /** Records a signature; false when it was seen before (a replay). */
  firstTime(signature: string, now: number): Promise<boolean>;
  changed(events: { contactIds: string[]; companyIds: string[] }): Promise<void>;
}

export interface GraphNotificationSink {
  clientStateMatches(state: string | undefined): Promise<boolean>;
  /** New mail: read the mailbox soon (never inside the request: Graph wants an answer within 3 s). */
  changed(): void;
  lifecycle(event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed'): void;
}

/**
 * The restify server: `/api/messages` for Teams, `/healthz` and `/readyz` for the platform. It counts
 * requests in flight so shutdown can let them finish, and answers 503 to anything that arrives while
 * draining.
 */
function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The Graph subscription handshake: a POST with `?validationToken=` and a text/plain body we ignore. */
const isGraphValidation = (req: Request) => req.path() === '/api/notifications/graph' && new URL(req.url ?? '/', 'http://localhost').searchParams.has('validationToken');

/** Slack's request URLs, as set in the Slack app's Interactivity and Slash Commands pages. */
const SLACK_PATHS = ['/api/slack/interactivity', '/api/slack/commands'] as const;

export class HttpServer {
  private readonly server: Server;
  private draining = false;
  /** Set by `listen`: /metrics without a token is served on loopback only. */
  private loopbackOnly = true;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Answers whose refusal the route already logged. */
  private readonly explained = new WeakSet<Response>();
  /** Why the body reader refused a request, for the request's log line. */
  private readonly bodyRefusals = new WeakMap<Response, string>();

  constructor(private readonly deps: HttpServerDeps) {
    const { logger } = deps;
    this.server = restify.createServer({ name: 'teams-service-desk', handleUncaughtExceptions: false });
    // Every answer, including restify's own 404/405, is what its Content-Type says and nothing else.
    this.server.pre((_req, res, next) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      return next();
    });
    this.server.use((req, res, next) => {
      if (this.draining) {
        res.setHeader('Connection', 'close');
        res.send(503, { error: 'shutting down; retry on another instance' });
        return next(false);
      }
      return next();
    });
    this.server.use(jsonBody(deps.maxBodyBytes, { skip: isGraphValidation, onRefused: (res, reason) => this.bodyRefusals.set(res, reason), formPaths: SLACK_PATHS }));

    this.server.post('/api/messages', async (req: Request, res: Response) => {
      const check = checkInboundActivity(req.body);
      if (!check.ok) {
        logger.warn({ problems: check.problems, path: req.path() }, 'rejected a malformed activity');
        res.send(400, { error: 'malformed activity', problems: check.problems });
        return;
      }
      const started = performance.now();
      const body = req.body as { id?: unknown; type?: unknown; name?: unknown };
      const kind = String(body.type ?? 'unknown').slice(0, 40);
      // Everything logged for this activity, and everything it queues, carries its id.
      const correlation = correlationId('activity', typeof body.id === 'string' && body.id ? body.id : `~${randomUUID()}`);
      const work = withCorrelation(correlation, async () => {
        await deps.messages.process(req, res);
        // A refusal was logged, with its reason, where it was decided: one line per refusal.
        if (res.statusCode >= 400) {
          this.explained.add(res);
          return;
        }
        logger.info({ type: kind, ...(typeof body.name === 'string' ? { name: body.name.slice(0, 80) } : {}), status: res.statusCode, ms: Math.round(performance.now() - started) }, 'activity handled');
      });
      this.inFlight.add(work);
      try {
        await work;
      } finally {
        this.inFlight.delete(work);
        const seconds = (performance.now() - started) / 1000;
        deps.metrics?.turns.inc({ kind, outcome: res.statusCode < 400 ? 'ok' : res.statusCode === 401 ? 'unauthorized' : 'error' });
        deps.metrics?.turnSeconds.observe({ kind }, seconds);
        if (kind === 'invoke') deps.metrics?.invokeSeconds.observe(seconds);
      }
    });

    this.server.post('/api/notifications/graph', async (req: Request, res: Response) => {
      // The validation handshake: echo the token, decoded, as plain text (Graph checks it within 10 s).
      const validationToken = new URL(req.url ?? '/', 'http://localhost').searchParams.get('validationToken');
      if (validationToken !== null) {
        if (!deps.graphNotifications || validationToken.length > 1024) {
          res.send(deps.graphNotifications ? 400 : 404);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(validationToken);
        return;
      }
      const sink = deps.graphNotifications;
      if (!sink) {
        res.send(404, { error: 'email is not configured on this service' });
        return;
      }
      const parsed = parseGraphNotifications(req.body);
      if (!parsed.ok) {
        logger.warn({ problem: parsed.problem }, 'rejected a malformed Graph notification');
        res.send(400, { error: 'malformed notification', problem: parsed.problem });
        return;
      }
      let accepted = 0;
      for (const notification of parsed.notifications) {
        if (!(await sink.clientStateMatches(notification.clientState))) continue;
        accepted++;
        if (notification.lifecycleEvent) sink.lifecycle(notification.lifecycleEvent);
        else sink.changed();
      }
      if (accepted === 0) {
        logger.warn({ count: parsed.notifications.length }, 'refused Graph notifications with an unknown clientState');
        res.send(401, { error: 'unknown clientState' });
        return;
      }
      res.send(202);
    });

    this.server.post('/api/webhooks/hubspot', async (req: Request, res: Response) => {
      const sink = deps.hubspotWebhooks;
      if (!sink) {
        res.send(404, { error: 'HubSpot is not configured on this service' });
        return;
      }
      const now = Date.now();
      // The signature covers the body exactly as sent; restify keeps it beside the parsed one.
      const raw = String((req as { rawBody?: string | Buffer }).rawBody ?? '');
      const url = sink.publicUrl ?? `${String(req.headers['x-forwarded-proto'] ?? 'http').split(',')[0]}://${req.headers['x-forwarded-host'] ?? req.headers.host}${req.url}`;
      const signature = header(req, 'x-hubspot-signature-v3');
      const check = sink.secret
        ? verifyV3({ secret: sink.secret, method: 'POST', url, body: raw, timestamp: header(req, 'x-hubspot-request-timestamp'), signature, now })
        : { ok: false as const, reason: 'HUBSPOT_CLIENT_SECRET is not set' };
      if (!check.ok) {
        logger.warn({ reason: check.reason }, 'refused a HubSpot webhook');
        res.send(401, { error: check.reason });
        return;
      }
      if (!(await sink.firstTime(signature!, now))) {
        logger.warn('refused a replayed HubSpot webhook');
        res.send(401, { error: 'this request was already received' });
        return;
      }
      const parsed = parseHubSpotEvents(req.body);
      if (!parsed.ok) {
        logger.warn({ problem: parsed.problem }, 'rejected a malformed HubSpot webhook');
        res.send(400, { error: 'malformed webhook', problem: parsed.problem });
        return;
      }
      await sink.changed(parsed.changed);
      res.send(204);
    });

    // Slack posts forms, signed over the bytes as sent (https://api.slack.com/authentication/verifying-requests-from-slack).
    for (const [path, kind] of [[SLACK_PATHS[0], 'interactivity'], [SLACK_PATHS[1], 'commands']] as const) {
      this.server.post(path, async (req: Request, res: Response) => {
        if (!deps.slack) {
          res.send(404, { error: 'Slack is not configured on this service (SLACK_BOT_TOKEN)' });
          return;
        }
        const raw = String((req as { rawBody?: string | Buffer }).rawBody ?? '');
        const answer = await deps.slack.handle(kind, raw, req.headers);
        if (answer.status >= 400) this.explained.add(res);
        res.send(answer.status, answer.body ?? '');
      });
    }

    // Issue trackers sign the body as sent (Linear-Signature; Jira's X-Hub-Signature): the raw bytes are checked.
    for (const tracker of ['linear', 'jira'] as const) {
      this.server.post(`/api/webhooks/${tracker}`, async (req: Request, res: Response) => {
        if (!deps.trackerWebhooks) {
          res.send(404, { error: 'no issue tracker is connected on this service' });
          return;
        }
        const raw = String((req as { rawBody?: string | Buffer }).rawBody ?? '');
        const answer = await deps.trackerWebhooks.receive(tracker, raw, req.headers);
        if (answer.status >= 400) this.explained.add(res);
        res.send(answer.status, answer.body ?? '');
      });
    }

    registerAttachmentRoutes(this.server, deps.attachments, logger, (res) => this.explained.add(res));

    // The Agents Playground (and some load balancers) probe the endpoint with HEAD before using it.
    this.server.head('/api/messages', async (_req: Request, res: Response) => {
      res.send(200);
    });

    this.server.get('/healthz', async (_req: Request, res: Response) => {
      res.send(200, { status: 'ok' });
    });

    // 503 only without the database: a broken integration degrades the desk, it does not take it out of rotation.
    // Anyone may ask; error text (hosts, ids, vendor messages) is for the holder of the metrics token.
    this.server.get('/readyz', async (req: Request, res: Response) => {
      const report = await deps.health.report();
      if (!report.ready) logger.warn({ checks: report.checks }, 'readiness check: not ready');
      const detailed = deps.metricsToken !== undefined && header(req, 'authorization') === `Bearer ${deps.metricsToken}`;
      const checks = detailed ? report.checks : Object.fromEntries(Object.entries(report.checks).map(([name, check]) => [name, { status: check.status }]));
      res.send(report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', checks });
    });

    this.server.get('/metrics', async (req: Request, res: Response) => {
      if (!deps.metrics) {
        res.send(404);
        return;
      }
      if (!deps.metricsToken && !this.loopbackOnly) {
        res.send(403, { error: 'metrics are served beyond loopback only with a token: set METRICS_TOKEN and send Authorization: Bearer <METRICS_TOKEN>' });
        return;
      }
      if (deps.metricsToken && header(req, 'authorization') !== `Bearer ${deps.metricsToken}`) {
        res.send(401, { error: 'metrics need Authorization: Bearer <METRICS_TOKEN>' });
        return;
      }
      const text = await deps.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
      res.end(text);
    });

    // Every request ends here, including the ones restify refused itself (invalid JSON, too large).
    this.server.on('after', (req: Request, res: Response, _route: unknown, error?: Error) => {
      const status = res.statusCode;
      if (this.explained.has(res)) return;
      if (status < 400 && !logger.isLevelEnabled('debug')) return;
      const entry = {
        method: req.method,
        path: req.path(),
        status,
        ms: Date.now() - (req.time?.() ?? Date.now()),
        ...(error ? { reason: error.message } : this.bodyRefusals.has(res) ? { reason: this.bodyRefusals.get(res) } : {}),
      };
      if (status >= 500) logger.error(entry, 'request failed');
      else if (status >= 400) logger.warn(entry, 'request refused');
      else logger.debug(entry, 'request');
    });
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    this.loopbackOnly = isLoopbackHost(host);
    if (!this.loopbackOnly && !this.deps.metricsToken && this.deps.metrics) {
      this.deps.logger.warn({ host }, 'METRICS_TOKEN is not set: /metrics answers 403 on this interface until it is');
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting, then waits (up to `timeoutMs`) for requests in flight. */
  async close(timeoutMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const settled = Promise.allSettled([...this.inFlight]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.deps.logger.warn({ inFlight: this.inFlight.size }, 'shutdown timeout: requests still in flight');
    // Idle keep-alive sockets would hold close() open.
    (this.server.server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  }
}
