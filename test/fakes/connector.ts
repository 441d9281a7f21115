import { EventEmitter } from 'node:events';
import type { FlakyPeer } from './flaky.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeIdentityProvider } from './identity-provider.js';

/**
 * A Bot Framework connector (the service at an activity's serviceUrl) on loopback HTTP. It records every
 * call the bot makes, checks the bot's bearer token with the fake identity provider, can enforce Teams'
 * rate limits the way Teams does (429 with Retry-After), and can answer with injected failures.
 * Paths follow the Bot Connector REST API
 * (https://learn.microsoft.com/en-us/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference).
 */

export type ConnectorOperation = 'send' | 'reply' | 'update' | 'delete' | 'createConversation';

export interface ConnectorCall {
  operation: ConnectorOperation;
  conversationId: string;
  /** The reply-to id for `reply`, the replaced id for `update`/`delete`, the new id for `send`. */
  activityId: string | undefined;
  /** The id the connector gave the new activity (`send` and `reply`). */
  createdId: string | undefined;
  activity: Record<string, any>;
  /** What the connector answered. */
  status: number;
  appId: string | undefined;
  at: number;
}

export interface InjectedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface Fault {
  remaining: number;
  response: InjectedResponse;
  when: (call: Pick<ConnectorCall, 'operation' | 'conversationId'>) => boolean;
}

/** Teams' per-thread send limits and the per-tenant limit (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit). */
const THREAD_WINDOWS = [
  { limit: 7, ms: 1_000 },
  { limit: 8, ms: 2_000 },
  { limit: 60, ms: 30_000 },
];
const TENANT_WINDOW = { limit: 50, ms: 1_000 };

export class FakeConnector {
  readonly calls: ConnectorCall[] = [];
  /** Calls answered 429 because a Teams limit was exceeded (not injected faults). */
  readonly throttled: ConnectorCall[] = [];
  enforceTeamsLimits = false;
  /** Milliseconds to hold every answer: lets a test catch a turn in flight. */
  delayMs = 0;
  /** Random faults on sends, replies and updates (the faulty-peer tests). */
  flaky: FlakyPeer | undefined;
  private readonly server: Server;
  private readonly events = new EventEmitter();
  private readonly faults: Fault[] = [];
  private readonly history = new Map<string, number[]>();
  private nextId = 1;
  private base = '';

  constructor(private readonly identity: FakeIdentityProvider | undefined) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'FakeConnectorError', message: String(error) } }));
      });
    });
    this.events.setMaxListeners(100);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The serviceUrl activities should carry so the bot answers here. */
  get serviceUrl(): string {
    return this.base;
  }

  /** Answer the next `times` matching calls with `response` instead of accepting them. */
  fail(times: number, response: InjectedResponse, when: Fault['when'] = () => true): void {
    this.faults.push({ remaining: times, response, when });
  }

  /** Successful calls (2xx), optionally of one operation. */
  delivered(operation?: ConnectorOperation): ConnectorCall[] {
    return this.calls.filter((c) => c.status < 300 && (!operation || c.operation === operation));
  }

  /** Resolves once `count` delivered calls match, without polling. */
  waitFor(predicate: (call: ConnectorCall) => boolean, options: { count?: number; timeoutMs?: number } = {}): Promise<ConnectorCall[]> {
    const count = options.count ?? 1;
    const matching = () => this.calls.filter((c) => c.status < 300 && predicate(c));
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = matching();
        if (found.length >= count) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`connector saw ${matching().length} of ${count} expected calls within ${options.timeoutMs ?? 5000} ms`));
      }, options.timeoutMs ?? 5_000);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('call', check);
      };
      this.events.on('call', check);
      check();
    });
  }

  /** Resolves when a matching request arrives, before it is answered (so even while `delayMs` holds it). */
  waitForArrival(predicate: (call: ConnectorCall) => boolean, timeoutMs = 5_000): Promise<ConnectorCall> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('arrival', check);
        reject(new Error(`no matching request reached the connector within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (call: ConnectorCall) => {
        if (!predicate(call)) return;
        clearTimeout(timer);
        this.events.off('arrival', check);
        resolve(call);
      };
      this.events.on('arrival', check);
    });
  }

  /**
   * Inline images (pasted screenshots) behind the Bot Connector's attachments API,
   * `GET /v3/attachments/{id}/views/original`, served only with the bot's token.
   */
  readonly images = new Map<string, Buffer>();
  /** Authorization headers the attachments API saw (to check the bot's token went there and nowhere else). */
  readonly imageRequests: Array<{ id: string; authorized: boolean }> = [];

  /** Serves `bytes` as an inline image; returns its contentUrl. */
  addImage(id: string, bytes: Buffer): string {
    this.images.set(id, bytes);
    return `${this.base}v3/attachments/${encodeURIComponent(id)}/views/original`;
  }

  /** Team and chat rosters, as Teams' member APIs return them. */
  readonly members = new Map<string, { id: string; name: string; aadObjectId: string; email: string; userPrincipalName: string; tenantId: string }>();

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const image = /^\/v3\/attachments\/([^/]+)\/views\/original$/.exec((req.url ?? '').split('?')[0]!);
    if (req.method === 'GET' && image) {
      const id = decodeURIComponent(image[1]!);
      const authorized = !this.identity || Boolean(this.identity.verifyBotToken(req.headers.authorization));
      this.imageRequests.push({ id, authorized });
      const bytes = this.images.get(id);
      if (!authorized || !bytes) {
        res.writeHead(authorized ? 404 : 401);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(bytes.length) });
      res.end(bytes);
      return;
    }
    const body = await readBody(req);
    const roster = this.roster(req.method ?? 'GET', req.url ?? '/', req.headers.authorization);
    if (roster) {
      res.writeHead(roster.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(roster.body));
      return;
    }
    const route = this.parse(req.method ?? 'GET', req.url ?? '/');
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NotFound', message: `${req.method} ${req.url}` } }));
      return;
    }
    const activity = body ? (JSON.parse(body) as Record<string, any>) : {};
    const caller = this.identity?.verifyBotToken(req.headers.authorization);
    const call: ConnectorCall = {
      operation: route.operation,
      conversationId: route.conversationId,
      activityId: route.activityId,
      createdId: undefined,
      activity,
      status: 0,
      appId: caller?.appId,
      at: Date.now(),
    };

    let answer: InjectedResponse;
    const fault = this.faults.find((f) => f.remaining > 0 && f.when(call));
    // Proactive traffic only (sends, updates, replies to cards we posted): a turn's own answer to an
    // incoming activity is left alone, as the turn is what the test drives.
    const proactive = route.operation !== 'reply' || String(route.activityId ?? '').startsWith('act-');
    const random = (caller || !this.identity) && proactive ? this.flaky?.next(`${route.operation}:${route.conversationId}`) : undefined;
    if (random?.kind === 'hang') {
      // Never answered and never delivered: the sender's timeout fires, and it must try again.
      setTimeout(() => res.destroy(), 30_000).unref();
      return;
    }
    if (this.identity && !caller) {
      answer = { status: 401, body: { message: 'Authorization has been denied for this request.' } };
    } else if (fault) {
      fault.remaining -= 1;
      answer = fault.response;
    } else if (random) {
      answer = random.kind === 429 ? { status: 429, headers: { 'retry-after': String(random.retryAfterSeconds) }, body: { error: { code: 'ThrottledRequest', message: 'Too many requests' } } } : { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'Try again later' } } };
    } else if (this.enforceTeamsLimits && route.operation !== 'update' && this.overLimit(call)) {
      answer = { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'ThrottledRequest', message: 'Too many requests' } } };
      this.throttled.push(call);
    } else {
      const id = route.operation === 'update' || route.operation === 'delete' ? route.activityId! : `act-${this.nextId++}`;
      if (route.operation === 'createConversation') {
        answer = { status: 201, body: { id: `a:conv-${this.nextId++}`, activityId: id } };
      } else {
        answer = { status: route.operation === 'update' ? 200 : 201, body: { id } };
      }
      if (route.operation === 'send') call.activityId = id;
      if (route.operation === 'send' || route.operation === 'reply') call.createdId = id;
    }

    call.status = answer.status;
    this.events.emit('arrival', call);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.calls.push(call);
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    this.events.emit('call', call);
  }

  /** GET …/members/{id} and GET …/pagedmembers (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/get-teams-context). */
  private roster(method: string, url: string, authorization: string | undefined): { status: number; body: unknown } | undefined {
    if (method !== 'GET') return undefined;
    const path = url.split('?')[0]!;
    const one = /^\/v3\/conversations\/[^/]+\/members\/([^/]+)$/.exec(path);
    const paged = /^\/v3\/conversations\/[^/]+\/pagedmembers$/.test(path);
    if (!one && !paged) return undefined;
    if (this.identity && !this.identity.verifyBotToken(authorization)) return { status: 401, body: { message: 'Authorization has been denied for this request.' } };
    if (one) {
      const member = this.members.get(decodeURIComponent(one[1]!));
      return member ? { status: 200, body: member } : { status: 404, body: { error: { code: 'MemberNotFoundInConversation', message: 'The member was not found' } } };
    }
    return { status: 200, body: { members: [...this.members.values()] } };
  }

  private parse(method: string, url: string): { operation: ConnectorOperation; conversationId: string; activityId?: string } | undefined {
    const path = url.split('?')[0]!;
    if (method === 'POST' && path === '/v3/conversations') return { operation: 'createConversation', conversationId: '' };
    const match = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(path);
    if (!match) return undefined;
    const conversationId = decodeURIComponent(match[1]!);
    const activityId = match[2] ? decodeURIComponent(match[2]) : undefined;
    if (method === 'POST' && !activityId) return { operation: 'send', conversationId };
    if (method === 'POST') return { operation: 'reply', conversationId, activityId };
    if (method === 'PUT' && activityId) return { operation: 'update', conversationId, activityId };
    if (method === 'DELETE' && activityId) return { operation: 'delete', conversationId, activityId };
    return undefined;
  }

  /** Counts the call against its thread's and tenant's windows; true when a window is already full. */
  private overLimit(call: ConnectorCall): boolean {
    const now = Date.now();
    const thread = call.conversationId.split(';messageid=')[0]!;
    const tenant = String(call.activity.conversation?.tenantId ?? call.activity.channelData?.tenant?.id ?? 'tenant');
    const threadTimes = this.times(`thread:${thread}`, now, 30_000);
    const tenantTimes = this.times(`tenant:${tenant}`, now, TENANT_WINDOW.ms);
    const full =
      THREAD_WINDOWS.some((w) => threadTimes.filter((t) => t > now - w.ms).length >= w.limit) ||
      tenantTimes.filter((t) => t > now - TENANT_WINDOW.ms).length >= TENANT_WINDOW.limit;
    if (!full) {
      threadTimes.push(now);
      tenantTimes.push(now);
    }
    return full;
  }

  private times(key: string, now: number, keepMs: number): number[] {
    const kept = (this.history.get(key) ?? []).filter((t) => t > now - keepMs);
    this.history.set(key, kept);
    return kept;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
