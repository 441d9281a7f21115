import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import PostalMime, { type Email } from 'postal-mime';
import type { FakeIdentityProvider } from './identity-provider.js';
import type { FlakyPeer } from './flaky.js';
import { conversationIdFor, parseEml, type FakeAttachment, type FakeMessage } from './mail-message.js';
import { loopbackTls } from './tls.js';

/**
 * A Microsoft Graph mailbox on loopback HTTPS (the Graph client sends its bearer token only over
 * https): delta query on the Inbox with nextLink/deltaLink paging and `$select` honoured (headers only
 * when asked for), one message by id, attachments (listed whole, or with `$select` and no contents, as
 * Graph does; a file's raw bytes streamed from `/$value`, contents generated on the fly for large ones),
 * createReply → PATCH → send with Exchange's threading headers, MIME
 * sendMail, Sent Items looked up by `$filter=internetMessageId eq '…'`, subscriptions with the
 * validation handshake, notifications and lifecycle events, and faults: 429 with Retry-After, 503,
 * hanging requests, a send taken whose answer is lost (never comes, or comes as a 504), latency, and
 * Outlook's four-concurrent-requests limit. Tokens are checked against the fake identity provider.
 */

export interface SentMail {
  via: 'reply' | 'mime';
  to: string[];
  /** Cc of a Graph reply (the JSON path); MIME mail keeps its Cc in `headers`. */
  cc?: string[];
  subject: string;
  internetMessageId: string;
  inReplyTo: string | undefined;
  references: string | undefined;
  headers: Array<{ name: string; value: string }>;
  html: string | undefined;
  text: string | undefined;
  at: number;
}

/**
 * `accept-then-hang` and `accept-then-504` do the request (a mail is sent) and then lose the answer:
 * none comes, or a gateway's 504 does, as when Graph took a send but its answer did not reach us.
 */
export type Fault = { status: 429; retryAfter?: number } | { status: 500 | 502 | 503 | 504 } | { status: 404 } | { status: 'hang' } | { status: 'accept-then-hang' | 'accept-then-504' };

/**
 * An attachment the fake serves: as parsed from a raw email (contentBytes), or with its bytes made on
 * demand by `content` (a benchmark's 10 MB files are never held by the fake).
 */
export type ServedAttachment = FakeAttachment & { content?: () => Readable };

interface Stored {
  seq: number;
  message: FakeMessage;
  attachments: ServedAttachment[];
}

interface Subscription {
  id: string;
  notificationUrl: string;
  clientState: string;
  resource: string;
  expiresAt: number;
}

const SELECT_DEFAULT = ['id', 'subject', 'from', 'receivedDateTime', 'body', 'internetMessageId', 'conversationId', 'toRecipients', 'ccRecipients', 'hasAttachments'];

export class FakeGraph {
  readonly mailbox: string;
  readonly sent: SentMail[] = [];
  /** Every request answered; `query` is the URL's search string (e.g. `?$select=…`). */
  readonly requests: Array<{ method: string; path: string; query: string; status: number; at: number }> = [];
  readonly subscriptions = new Map<string, Subscription>();
  /** Responses to give instead of the real one, matched in order (each used `times` times). */
  readonly faults: Array<{ match: (method: string, path: string) => boolean; fault: Fault; times: number }> = [];
  /** Random faults on every request (the faulty-peer tests). */
  flaky: FlakyPeer | undefined;
  /** Added to every request, like the network to a real Graph. */
  latencyMs = 0;
  /** Outlook runs at most this many requests per mailbox at once; more get 429. */
  maxConcurrent = 4;
  /** Longest subscription Graph grants, in minutes (10080 now; 4230 in older docs). */
  maxSubscriptionMinutes = 10_080;
  /** Where notifications really go: the service listens on http, the subscription names a public https URL. */
  notificationTarget: (url: string) => string = (url) => url;
  inFlight = 0;
  peakInFlight = 0;
  /** Attachment downloads (`/$value`) being streamed now, and the most at once. */
  downloadsInFlight = 0;
  peakDownloadsInFlight = 0;
  private readonly inbox: Stored[] = [];
  private readonly drafts = new Map<string, { replyTo: FakeMessage; draft: Record<string, any> }>();
  private seq = 0;
  /** Delta tokens issued before this sequence number are refused (410), as after a long outage. */
  private deltaEpoch = 0;
  private server: Server;
  private base = '';
  private readonly arrivals: Array<() => void> = [];

  constructor(
    private readonly identity: FakeIdentityProvider,
    options: { mailbox?: string } = {},
  ) {
    this.mailbox = options.mailbox ?? 'support@contoso.example';
    this.server = createServer(loopbackTls, (req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `https://localhost:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get baseUrl(): string {
    return this.base;
  }

  /** Puts a raw email (RFC 5322) in the Inbox; returns the Graph message. */
  async deliver(raw: string | Buffer, received = new Date()): Promise<FakeMessage> {
    const parsed = await parseEml(raw, received);
    return this.deliverMessage(parsed.message, parsed.attachments);
  }

  /** Puts a Graph message (as JSON) in the Inbox, as is: for malformed and hand-made cases. */
  deliverMessage(message: FakeMessage, attachments: ServedAttachment[] = []): FakeMessage {
    this.inbox.push({ seq: ++this.seq, message, attachments });
    return message;
  }

  /** Refuses every delta and skip token issued so far (Graph's 410 after a sync state expires). */
  expireDeltaTokens(): void {
    this.deltaEpoch = this.seq + 1;
  }

  fail(match: (method: string, path: string) => boolean, fault: Fault, times = 1): void {
    this.faults.push({ match, fault, times });
  }

  /** Sends a change notification for the newest message to every subscription (as Graph would). */
  async notify(): Promise<number[]> {
    const last = this.inbox[this.inbox.length - 1];
    const statuses: number[] = [];
    for (const sub of this.subscriptions.values()) {
      statuses.push(
        await this.post(sub.notificationUrl, {
          value: [
            {
              subscriptionId: sub.id,
              subscriptionExpirationDateTime: new Date(sub.expiresAt).toISOString(),
              clientState: sub.clientState,
              changeType: 'created',
              resource: `${sub.resource}/${last?.message.id ?? ''}`,
              tenantId: 'contoso',
              resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': `Users/${this.mailbox}/Messages/${last?.message.id ?? ''}`, id: last?.message.id ?? '' },
            },
          ],
        }),
      );
    }
    return statuses;
  }

  async lifecycle(event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed', options: { clientState?: string } = {}): Promise<number[]> {
    const statuses: number[] = [];
    for (const sub of [...this.subscriptions.values()]) {
      if (event === 'subscriptionRemoved') this.subscriptions.delete(sub.id);
      statuses.push(
        await this.post(sub.notificationUrl, {
          value: [{ subscriptionId: sub.id, subscriptionExpirationDateTime: new Date(sub.expiresAt).toISOString(), tenantId: 'contoso', clientState: options.clientState ?? sub.clientState, lifecycleEvent: event }],
        }),
      );
    }
    return statuses;
  }

  /** Resolves when `count` mails in all have been sent. */
  async waitForSent(count: number, timeoutMs = 5_000): Promise<SentMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.sent.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} sent mails, got ${this.sent.length}: ${JSON.stringify(this.sent.map((s) => s.subject))}`);
      await new Promise<void>((resolve) => {
        this.arrivals.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.sent;
  }

  private async post(url: string, body: unknown): Promise<number> {
    const response = await fetch(this.notificationTarget(url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await response.text();
    return response.status;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(url.pathname);
    // When the request arrived (not when it was answered): "retried sooner than Retry-After" compares
    // arrivals, and a request already in flight when another was throttled is not a retry of it.
    const arrivedAt = Date.now();
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method, path, query: url.search, status, at: arrivedAt });
      res.writeHead(status, { ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'request-id': randomUUID(), ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) => send(status, { error: { code, message } }, headers);

    if (this.identity.verifyAccessToken(req.headers.authorization, this.base) === undefined && !path.startsWith('/upload/')) {
      return error(401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
    }
    if (this.inFlight >= this.maxConcurrent) {
      return error(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': '1' });
    }
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      const body = await readBody(req);
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      const random = this.flaky?.next(`${method} ${path}`);
      if (random?.kind === 'hang') return; // never answers (the client's timeout fires); nothing done
      if (random) return error(random.kind, random.kind === 429 ? 'ApplicationThrottled' : 'ServiceUnavailable', 'Injected fault.', random.kind === 429 ? { 'Retry-After': String(random.retryAfterSeconds) } : {});
      const fault = this.faults.find((f) => f.times > 0 && f.match(method, path));
      if (fault) {
        fault.times--;
        if (fault.fault.status === 'hang') return; // never answers; the client's timeout must fire
        if (fault.fault.status === 'accept-then-hang' || fault.fault.status === 'accept-then-504') {
          const lost = fault.fault.status;
          // Done as usual; a success is then not answered (or answered 504). A refusal still goes back.
          const answer = (status: number, ...rest: [unknown?, Record<string, string>?]) => {
            if (status >= 400) return send(status, ...rest);
            if (lost === 'accept-then-504') error(504, 'GatewayTimeout', 'The gateway did not receive a response in time.');
          };
          return await this.route(method, path, url, req, res, body, answer, (status, code, message, headers) => send(status, { error: { code, message } }, headers));
        }
        if (fault.fault.status === 429) return error(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': String(fault.fault.retryAfter ?? 1) });
        if (fault.fault.status === 404) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
        return error(fault.fault.status, 'ServiceUnavailable', 'The service is temporarily unavailable.');
      }
      await this.route(method, path, url, req, res, body, send, error);
    } finally {
      this.inFlight--;
    }
  }

  private route(
    method: string,
    path: string,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    send: (status: number, body?: unknown, headers?: Record<string, string>) => void,
    error: (status: number, code: string, message: string, headers?: Record<string, string>) => void,
  ): void | Promise<void> {
    const user = `/v1.0/users/${this.mailbox}`;
    if (method === 'GET' && path.toLowerCase() === `${user}/mailfolders/inbox`.toLowerCase()) return send(200, { id: 'inbox', displayName: 'Inbox' });

    if (method === 'GET' && path === `${user}/mailFolders/inbox/messages/delta`) return this.delta(url, req, send, error);

    // Well-known folder names are case-insensitive, as in Graph.
    if (method === 'GET' && path.toLowerCase() === `${user}/mailfolders/sentitems/messages`.toLowerCase()) return this.sentItems(url, send, error);

    const attachments = new RegExp(`^${escape(user)}/messages/([^/]+)/attachments$`).exec(path);
    if (method === 'GET' && attachments) {
      const stored = this.inbox.find((m) => m.message.id === attachments[1]);
      if (!stored) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const select = (url.searchParams.get('$select') ?? '').split(',').filter(Boolean);
      if (select.length === 0) return send(200, { value: stored.attachments.map(listedWhole) });
      // As Graph: contentId is fileAttachment's, so only its cast form may be selected.
      const unknown = select.find((f) => !ATTACHMENT_BASE_FIELDS.includes(f) && f !== 'microsoft.graph.fileAttachment/contentId');
      if (unknown) return error(400, 'RequestBroker--ParseUri', `Could not find a property named '${unknown}' on type 'microsoft.graph.attachment'.`);
      return send(200, { value: stored.attachments.map((a) => listedSelected(a, select)) });
    }

    const value = new RegExp(`^${escape(user)}/messages/([^/]+)/attachments/([^/]+)/\\$value$`).exec(path);
    if (method === 'GET' && value) {
      const attachment = this.inbox.find((m) => m.message.id === value[1])?.attachments.find((a) => a.id === value[2]);
      if (!attachment) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      if (!attachment['@odata.type'].includes('fileAttachment')) return error(400, 'ErrorInvalidRequest', 'The fake serves $value for file attachments only.');
      return this.download(attachment, method, path, url, res);
    }

    const single = new RegExp(`^${escape(user)}/messages/([^/]+)$`).exec(path);
    if (method === 'GET' && single) {
      const stored = this.inbox.find((m) => m.message.id === single[1]);
      if (!stored) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const select = (url.searchParams.get('$select') ?? '').split(',').filter(Boolean);
      const fields = select.length > 0 ? select : SELECT_DEFAULT;
      return send(200, Object.fromEntries(Object.entries(stored.message).filter(([k]) => k === 'id' || fields.includes(k))));
    }

    const createReply = new RegExp(`^${escape(user)}/messages/([^/]+)/createReply$`).exec(path);
    if (method === 'POST' && createReply) {
      const original = this.inbox.find((m) => m.message.id === createReply[1])?.message;
      if (!original) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const id = `AAMkDraft${randomUUID().replace(/-/g, '')}`;
      const draft = {
        id,
        isDraft: true,
        internetMessageId: `<${randomUUID().replace(/-/g, '').slice(0, 20)}@contoso.prod.outlook.com>`,
        subject: `RE: ${original.subject}`,
        conversationId: original.conversationId,
        toRecipients: original.from ? [original.from] : [],
        body: { contentType: 'html', content: '' },
      };
      this.drafts.set(id, { replyTo: original, draft });
      return send(201, draft);
    }

    const sendDraft = new RegExp(`^${escape(user)}/messages/([^/]+)/send$`).exec(path);
    if (method === 'POST' && sendDraft) {
      const entry = this.drafts.get(sendDraft[1]!);
      if (!entry) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      this.drafts.delete(sendDraft[1]!);
      const original = entry.replyTo;
      const references = [headerOf(original, 'references'), original.internetMessageId].filter(Boolean).join(' ');
      // Exchange writes the threading headers of a reply itself.
      this.record({
        via: 'reply',
        to: (entry.draft.toRecipients ?? []).map((r: any) => r.emailAddress.address),
        cc: (entry.draft.ccRecipients ?? []).map((r: any) => r.emailAddress.address),
        subject: entry.draft.subject,
        internetMessageId: entry.draft.internetMessageId,
        inReplyTo: original.internetMessageId,
        references,
        headers: [{ name: 'In-Reply-To', value: original.internetMessageId }, { name: 'References', value: references }, { name: 'Thread-Index', value: 'AQHZ' }],
        html: entry.draft.body?.content,
        text: undefined,
        at: Date.now(),
      });
      return send(202);
    }

    const message = new RegExp(`^${escape(user)}/messages/([^/]+)$`).exec(path);
    if (method === 'PATCH' && message) {
      const entry = this.drafts.get(message[1]!);
      if (!entry) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const patch = JSON.parse(body.toString('utf8') || '{}');
      if (patch.internetMessageHeaders?.some((h: any) => !/^x-/i.test(h.name))) return error(400, 'InvalidInternetMessageHeader', 'The internet message header name should start with x- or X-.');
      Object.assign(entry.draft, patch);
      return send(200, entry.draft);
    }

    if (method === 'POST' && path === `${user}/sendMail`) {
      if (!/^text\/plain/i.test(req.headers['content-type'] ?? '')) {
        const json = JSON.parse(body.toString('utf8') || '{}');
        this.record({ via: 'mime', to: (json.message?.toRecipients ?? []).map((r: any) => r.emailAddress.address), subject: json.message?.subject ?? '', internetMessageId: `<${randomUUID()}@contoso.prod.outlook.com>`, inReplyTo: undefined, references: undefined, headers: json.message?.internetMessageHeaders ?? [], html: json.message?.body?.content, text: undefined, at: Date.now() });
        return send(202);
      }
      const mime = Buffer.from(body.toString('utf8'), 'base64');
      void PostalMime.parse(new Uint8Array(mime)).then((email: Email) => {
        this.record({
          via: 'mime',
          to: (email.to ?? []).flatMap((a) => (a.address ? [a.address] : [])),
          subject: email.subject ?? '',
          internetMessageId: email.messageId ?? `<${randomUUID()}@contoso.prod.outlook.com>`,
          inReplyTo: email.inReplyTo,
          references: email.references,
          headers: email.headers.map((h) => ({ name: h.originalKey ?? h.key, value: h.value })),
          html: email.html,
          text: email.text,
          at: Date.now(),
        });
        send(202);
      }, () => error(400, 'ErrorMimeContentInvalid', 'The MIME content is invalid.'));
      return;
    }

    if (method === 'POST' && path === '/v1.0/subscriptions') return void this.subscribe(body, send, error);
    const subscription = /^\/v1\.0\/subscriptions\/([^/]+)$/.exec(path);
    if (subscription) {
      const sub = this.subscriptions.get(subscription[1]!);
      if (!sub) return error(404, 'ResourceNotFound', 'The object was not found.');
      if (method === 'DELETE') {
        this.subscriptions.delete(sub.id);
        return send(204);
      }
      if (method === 'PATCH') {
        const requested = Date.parse(JSON.parse(body.toString('utf8') || '{}').expirationDateTime);
        sub.expiresAt = Math.min(requested, Date.now() + this.maxSubscriptionMinutes * 60_000);
        return send(200, { id: sub.id, expirationDateTime: new Date(sub.expiresAt).toISOString(), resource: sub.resource, clientState: null });
      }
    }
    error(400, 'BadRequest', `unsupported by the fake: ${method} ${path}`);
  }

  /** Streams a file attachment's raw bytes, counting downloads at once; the request is logged when the body is done. */
  private async download(attachment: ServedAttachment, method: string, path: string, url: URL, res: ServerResponse): Promise<void> {
    const arrivedAt = Date.now();
    this.downloadsInFlight++;
    this.peakDownloadsInFlight = Math.max(this.peakDownloadsInFlight, this.downloadsInFlight);
    try {
      res.writeHead(200, { 'content-type': attachment.contentType || 'application/octet-stream', 'request-id': randomUUID() });
      await pipeline(attachment.content ? attachment.content() : Readable.from([Buffer.from(attachment.contentBytes ?? '', 'base64')]), res).catch(() => undefined);
      this.requests.push({ method, path, query: url.search, status: 200, at: arrivedAt });
    } finally {
      this.downloadsInFlight--;
    }
  }

  private delta(url: URL, req: IncomingMessage, send: (status: number, body?: unknown) => void, error: (status: number, code: string, message: string) => void): void {
    const params = url.searchParams;
    const select = (params.get('$select') ?? '').split(',').filter(Boolean);
    const pageSize = Number(/odata\.maxpagesize=(\d+)/.exec(String(req.headers.prefer ?? ''))?.[1] ?? 10);
    const deltaToken = params.get('$deltatoken');
    const skipToken = params.get('$skiptoken');
    const filter = params.get('$filter');
    let low: number;
    let high: number;
    let since = 0;
    let offset = 0;
    if (skipToken) {
      const [l, h, o, s, epoch] = skipToken.split('.').map(Number);
      if (epoch! < this.deltaEpoch) return error(410, 'SyncStateNotFound', 'The sync state generation is not found.');
      [low, high, offset, since] = [l!, h!, o!, s!];
    } else if (deltaToken) {
      const [l, epoch] = deltaToken.split('.').map(Number);
      if (epoch! < this.deltaEpoch || !Number.isFinite(l)) return error(410, 'SyncStateNotFound', 'The sync state generation is not found.');
      [low, high] = [l!, this.seq];
    } else {
      const match = filter ? /receivedDateTime ge (\S+)/.exec(filter) : null;
      since = match ? Date.parse(match[1]!) : 0;
      [low, high] = [0, this.seq];
    }
    const round = this.inbox.filter((m) => m.seq > low && m.seq <= high && Date.parse(m.message.receivedDateTime) >= since);
    const page = round.slice(offset, offset + pageSize);
    const fields = select.length > 0 ? select : SELECT_DEFAULT;
    const value = page.map((m) => Object.fromEntries(Object.entries(m.message).filter(([k]) => k === 'id' || fields.includes(k))));
    const carried = new URLSearchParams({ ...(select.length ? { $select: select.join(',') } : {}) });
    const link = (token: string, kind: '$skiptoken' | '$deltatoken') => `${this.base}/v1.0/users/${this.mailbox}/mailFolders/inbox/messages/delta?${carried.toString()}${carried.toString() ? '&' : ''}${kind}=${token}`;
    const epoch = Math.max(this.deltaEpoch, 0);
    if (offset + pageSize < round.length) return send(200, { '@odata.context': 'fake', value, '@odata.nextLink': link(`${low}.${high}.${offset + pageSize}.${since}.${epoch}`, '$skiptoken') });
    return send(200, { '@odata.context': 'fake', value, '@odata.deltaLink': link(`${high}.${epoch}`, '$deltatoken') });
  }

  /**
   * Sent Items, filtered by Message-ID only (what the desk asks): the filter is an OData string literal
   * with its single quotes doubled; anything else is refused as Graph refuses a filter it cannot parse.
   */
  private sentItems(url: URL, send: (status: number, body?: unknown) => void, error: (status: number, code: string, message: string) => void): void {
    const filter = url.searchParams.get('$filter') ?? '';
    const match = /^internetMessageId eq '((?:[^']|'')*)'$/.exec(filter);
    if (!match) return error(400, 'BadRequest', `Invalid filter clause: the fake reads only internetMessageId eq '…', got ${JSON.stringify(filter)}`);
    const wanted = match[1]!.replace(/''/g, "'");
    const top = Number(url.searchParams.get('$top') ?? 10);
    const found = this.sent.flatMap((m, index) => (m.internetMessageId === wanted ? [{ id: `AAMkSent${index}`, internetMessageId: m.internetMessageId, subject: m.subject }] : []));
    const select = (url.searchParams.get('$select') ?? '').split(',').filter(Boolean);
    const value = found.slice(0, top).map((m) => (select.length ? Object.fromEntries(Object.entries(m).filter(([k]) => k === 'id' || select.includes(k))) : m));
    send(200, { '@odata.context': 'fake', value });
  }

  private async subscribe(body: Buffer, send: (status: number, body?: unknown) => void, error: (status: number, code: string, message: string) => void): Promise<void> {
    const input = JSON.parse(body.toString('utf8') || '{}');
    if (!String(input.notificationUrl ?? '').startsWith('https://')) return error(400, 'ValidationError', 'NotificationUrl must be https.');
    if (String(input.clientState ?? '').length > 128) return error(400, 'ValidationError', 'clientState is longer than 128 characters.');
    for (const target of new Set([input.notificationUrl, input.lifecycleNotificationUrl].filter(Boolean))) {
      // The handshake: a token with characters that must be decoded, answered as plain text within 10 s.
      const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
      const response = await fetch(`${this.notificationTarget(target)}?validationToken=${encodeURIComponent(token)}`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      const text = await response?.text();
      if (!response || response.status !== 200 || text !== token || !/^text\/plain/.test(response.headers.get('content-type') ?? '')) {
        return error(400, 'ValidationError', `Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request (got ${response?.status ?? 'no answer'}).`);
      }
    }
    const id = randomUUID();
    const expiresAt = Math.min(Date.parse(input.expirationDateTime), Date.now() + this.maxSubscriptionMinutes * 60_000);
    this.subscriptions.set(id, { id, notificationUrl: input.notificationUrl, clientState: input.clientState, resource: input.resource, expiresAt });
    send(201, { id, resource: input.resource, changeType: input.changeType, clientState: input.clientState, notificationUrl: input.notificationUrl, expirationDateTime: new Date(expiresAt).toISOString() });
  }

  private record(mail: SentMail): void {
    this.sent.push(mail);
    for (const wake of this.arrivals.splice(0)) wake();
  }
}

function headerOf(message: FakeMessage, name: string): string | undefined {
  return message.internetMessageHeaders.find((h) => h.name.toLowerCase() === name)?.value;
}

const ATTACHMENT_BASE_FIELDS = ['id', 'name', 'contentType', 'size', 'isInline', 'lastModifiedDateTime'];

/** An attachment listed without `$select`: as stored, file contents as base64 (contents made on demand are served from `/$value` only). */
function listedWhole(a: ServedAttachment): FakeAttachment {
  const { content: _generated, ...listed } = a;
  return listed;
}

/** With `$select`: the fields asked for, the id and the type annotation (Graph adds it for derived types), never contents. */
function listedSelected(a: ServedAttachment, select: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.type': a['@odata.type'], id: a.id };
  for (const field of select) {
    if (field === 'microsoft.graph.fileAttachment/contentId') {
      if (a['@odata.type'].includes('fileAttachment')) out.contentId = a.contentId;
    } else if (field in a) out[field] = (a as unknown as Record<string, unknown>)[field];
  }
  return out;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export { conversationIdFor };
