import { ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AuthenticationHandler, Client, GraphError, HTTPMessageHandler, ResponseType, type Context, type GraphRequest, type Middleware } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { parseRetryAfter } from '../../domain/backoff.js';
import type { MailAttachment } from '../../domain/mail/message.js';
import { OutboundPeer, type CallOptions, type PeerOptions } from '../outbound/peer.js';
import { failureOf, GraphRequestError } from './errors.js';

/**
 * The shared mailbox through Microsoft Graph: delta reads of the Inbox, attachments, threaded replies
 * (createReply → update → send, so Exchange keeps the conversation headers), MIME sends for automatic
 * mail, and change-notification subscriptions.
 *
 * Every call asks for immutable ids, runs at most four at a time (Outlook's concurrency limit per
 * mailbox, https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits), has a
 * timeout, and is retried through the shared OutboundPeer (../outbound/peer.ts), a bounded number of
 * times, when Graph throttles (after the time its Retry-After asks for, never sooner, and the whole
 * mailbox pauses meanwhile) or fails transiently (5xx, timeouts, the token endpoint). What is still
 * failing comes out as a GraphRequestError its caller can act on.
 *
 * Sending is the exception: Graph may have taken a send whose answer timed out or came back 5xx, so
 * sendMail and send are tried again inline only when Graph certainly did not take them (throttled, the
 * connection refused, the token failed first); otherwise the caller looks in Sent Items
 * (`sentMessageExists`) before it tries again.
 */

export interface GraphMailConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  mailbox: string;
  baseUrl: string;
  authorityHost: string;
}

export interface GraphClientOptions extends PeerOptions {
  concurrency: number;
  pageSize: number;
}

export const DEFAULT_GRAPH_CLIENT_OPTIONS: GraphClientOptions = {
  timeoutMs: 30_000,
  attempts: 4,
  maxInlineWaitMs: 30_000,
  backoff: { baseMs: 500, capMs: 8_000, jitter: 0.2 },
  concurrency: 4,
  pageSize: 50,
};

const MESSAGE_FIELDS = [
  'id',
  'internetMessageId',
  'conversationId',
  'subject',
  'from',
  'toRecipients',
  'ccRecipients',
  'receivedDateTime',
  'body',
  'hasAttachments',
  // Returned only when asked for by name.
  'internetMessageHeaders',
].join(',');

const ATTACHMENT_FIELDS = 'id,name,contentType,size,isInline,microsoft.graph.fileAttachment/contentId';

const IMMUTABLE_IDS = 'IdType="ImmutableId"';
const GRAPH_SCOPE_SUFFIX = '/.default';

export interface DeltaPage {
  messages: unknown[];
  /** Ids of messages removed from the folder since the last round. */
  removed: string[];
  nextLink: string | undefined;
  deltaLink: string | undefined;
}

export interface Subscription {
  id: string;
  expiresAt: number;
}

export class GraphMailClient {
  private readonly client: Client;
  private readonly options: GraphClientOptions;
  /** Graph throttles per app and mailbox: one peer per mailbox, paused as a whole after a 429. */
  private readonly peer: OutboundPeer<GraphRequestError>;
  /** Gets (or takes from the credential's cache) the token the next request will carry. */
  private readonly token: () => Promise<void>;
  private readonly user: string;

  constructor(
    readonly config: GraphMailConfig,
    options: Partial<GraphClientOptions> = {},
    credential?: TokenCredential,
  ) {
    this.options = { ...DEFAULT_GRAPH_CLIENT_OPTIONS, ...options };
    this.peer = new OutboundPeer('graph', GRAPH_ERRORS, this.options);
    this.user = `/users/${encodeURIComponent(config.mailbox)}`;
    const base = new URL(config.baseUrl);
    // Each cloud's Graph is its own audience (graph.microsoft.com, graph.microsoft.us, …; a test server too).
    const graphScope = `${base.origin}${GRAPH_SCOPE_SUFFIX}`;
    const authority = new URL(config.authorityHost);
    const cred =
      credential ??
      new ClientSecretCredential(config.tenantId, config.clientId, config.clientSecret, {
        authorityHost: authority.origin,
        // Microsoft's own clouds are discovered; anything else (a proxy, a test server) is trusted as given.
        disableInstanceDiscovery: !/(^|\.)login\.(microsoftonline\.(com|us)|chinacloudapi\.cn|partner\.microsoftonline\.cn)$/i.test(authority.hostname),
      });
    // The token is fetched ahead of each attempt, outside its timeout: the token endpoint has its own
    // retries (@azure/identity), and the timeout is for Graph's answer. The request then finds it cached.
    this.token = async () => {
      await cred.getToken(graphScope);
    };
    const auth = new AuthenticationHandler(new TokenCredentialAuthenticationProvider(cred, { scopes: [graphScope] }));
    // No RetryHandler: retries happen in `call`, where they are bounded, logged and visible to callers.
    const refusals = new RefusedConnectionHandler();
    auth.setNext(refusals);
    refusals.setNext(new HTTPMessageHandler());
    this.client = Client.initWithMiddleware({
      middleware: auth,
      baseUrl: `${base.origin}/`,
      // The bearer token goes only to Graph's own hosts unless the host is listed here.
      customHosts: isPublicGraph(base) ? undefined : new Set([base.hostname]),
    });
  }

  get mailbox(): string {
    return this.config.mailbox;
  }

  /** Every request made (for metrics and the benchmark). */
  get requests(): number {
    return this.peer.counters.requests;
  }

  /** The first page of a new delta round on the Inbox: new messages received since `since`. */
  deltaStart(since: Date): Promise<DeltaPage> {
    return this.call('read the mailbox (delta)', (api) =>
      api(`${this.user}/mailFolders/inbox/messages/delta`)
        .query({ changeType: 'created', $select: MESSAGE_FIELDS, $filter: `receivedDateTime ge ${since.toISOString()}` })
        .header('Prefer', `${IMMUTABLE_IDS}, odata.maxpagesize=${this.options.pageSize}`)
        .get()
        .then(toDeltaPage),
    );
  }

  /** Follows a nextLink or deltaLink; both carry the original query. */
  deltaNext(link: string): Promise<DeltaPage> {
    return this.call('read the mailbox (delta)', (api) =>
      api(link)
        .header('Prefer', `${IMMUTABLE_IDS}, odata.maxpagesize=${this.options.pageSize}`)
        .get()
        .then(toDeltaPage),
    );
  }

  /** One message by its immutable id, with the fields a delta read returns (an admin's retry). */
  message(messageId: string): Promise<unknown> {
    return this.call('read a message', (api) => api(`${this.user}/messages/${encodeURIComponent(messageId)}`).query({ $select: MESSAGE_FIELDS }).header('Prefer', IMMUTABLE_IDS).get());
  }

  /**
   * A message's attachments without their contents (`contentBytes` is null): a page of mail with large
   * files must not sit in memory as base64. The contents come one at a time from `attachmentContent`.
   * `contentId` belongs to fileAttachment, not to the attachment base type, so it is selected by
   * casting; a plain `contentId` is refused with a 400
   * (https://learn.microsoft.com/en-us/graph/api/resources/fileattachment,
   * https://learn.microsoft.com/en-us/graph/query-parameters#select-parameter).
   */
  async attachments(messageId: string): Promise<MailAttachment[]> {
    const body = await this.call('list attachments', (api) =>
      api(`${this.user}/messages/${encodeURIComponent(messageId)}/attachments`).query({ $select: ATTACHMENT_FIELDS }).header('Prefer', IMMUTABLE_IDS).get(),
    );
    const value: any[] = Array.isArray(body?.value) ? body.value : [];
    return value.map((a) => ({
      id: String(a.id ?? ''),
      kind: String(a['@odata.type'] ?? '').includes('itemAttachment') ? 'item' : String(a['@odata.type'] ?? '').includes('referenceAttachment') ? 'reference' : 'file',
      name: typeof a.name === 'string' ? a.name : '',
      contentType: typeof a.contentType === 'string' && a.contentType ? a.contentType : 'application/octet-stream',
      size: Number.isFinite(a.size) ? Number(a.size) : 0,
      isInline: a.isInline === true,
      contentId: typeof a.contentId === 'string' ? a.contentId : null,
      contentBytes: typeof a.contentBytes === 'string' ? a.contentBytes : null,
    }));
  }

  /**
   * Streams one file attachment's raw bytes (`GET …/attachments/{id}/$value`,
   * https://learn.microsoft.com/en-us/graph/api/attachment-get#example-6-get-the-raw-contents-of-a-file-attachment-on-a-message)
   * into `consume`, inside one call through the shared peer: the timeout covers the whole transfer, and
   * a retried transfer calls `consume` again with a fresh stream (so it must start over, e.g. a new file).
   */
  attachmentContent<T>(messageId: string, attachmentId: string, consume: (content: Readable) => Promise<T>): Promise<T> {
    return this.call('download an attachment', async (api) => {
      const body: unknown = await api(`${this.user}/messages/${encodeURIComponent(messageId)}/attachments/${encodeURIComponent(attachmentId)}/$value`)
        .responseType(ResponseType.STREAM)
        .get();
      return consume(toNodeStream(body));
    });
  }

  /** Where an attachment can be fetched later (kept for ones too large to store). */
  attachmentUrl(messageId: string, attachmentId: string): string {
    return `${new URL(this.config.baseUrl).origin}/v1.0${this.user}/messages/${encodeURIComponent(messageId)}/attachments/${encodeURIComponent(attachmentId)}/$value`;
  }

  /**
   * A draft reply to a received message, threaded by Exchange. Retried inline like a read: a retry
   * after a lost answer leaves one more draft in the mailbox's Drafts folder, but nothing is sent
   * twice, since only the draft whose id we got back is ever sent. Not retrying would not help: the
   * next attempt of the mail would make that second draft anyway, not knowing the first one's id.
   */
  async createReply(messageId: string): Promise<{ id: string; internetMessageId: string | null }> {
    const draft = await this.call('create a reply draft', (api) => api(`${this.user}/messages/${encodeURIComponent(messageId)}/createReply`).header('Prefer', IMMUTABLE_IDS).post({}));
    if (typeof draft?.id !== 'string') throw new GraphRequestError('invalid', 'createReply answered without a draft id');
    return { id: draft.id, internetMessageId: typeof draft.internetMessageId === 'string' ? draft.internetMessageId : null };
  }

  async updateDraft(draftId: string, patch: Record<string, unknown>): Promise<{ internetMessageId: string | null }> {
    const updated = await this.call('update the reply draft', (api) => api(`${this.user}/messages/${encodeURIComponent(draftId)}`).header('Prefer', IMMUTABLE_IDS).patch(patch));
    return { internetMessageId: typeof updated?.internetMessageId === 'string' ? updated.internetMessageId : null };
  }

  /** Sends a draft. Not retried where Graph may have sent it (see the class comment). */
  async sendDraft(draftId: string): Promise<void> {
    await this.call('send the reply', (api) => api(`${this.user}/messages/${encodeURIComponent(draftId)}/send`).header('Prefer', IMMUTABLE_IDS).post(null), SEND_ONCE);
  }

  /** Sends a whole MIME message (base64), for mail whose headers we set ourselves. Not retried where Graph may have sent it. */
  async sendMime(mime: string): Promise<void> {
    const base64 = Buffer.from(mime, 'utf8').toString('base64');
    await this.call('send mail', (api) => api(`${this.user}/sendMail`).header('Content-Type', 'text/plain').post(base64), SEND_ONCE);
  }

  /**
   * Whether a message with this Message-ID is in the mailbox's Sent Items: sendMail and send save a
   * copy there (https://learn.microsoft.com/en-us/graph/api/user-sendmail), so a send whose answer was
   * lost can be checked before it is tried again (https://learn.microsoft.com/en-us/graph/api/user-list-messages).
   * The filter is an OData string literal, its single quotes doubled (OData 4.01 URL conventions,
   * https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html, `SQUOTE-in-string`),
   * and percent-encoded (https://learn.microsoft.com/en-us/graph/query-parameters#encoding-query-parameters):
   * the SDK puts query values into the URL as they are, and a Message-ID may hold `+`, `&`, `#` or `%`.
   */
  async sentMessageExists(internetMessageId: string): Promise<boolean> {
    const filter = `internetMessageId eq '${internetMessageId.replace(/'/g, "''")}'`;
    const body = await this.call('look in Sent Items', (api) =>
      api(`${this.user}/mailFolders/sentitems/messages`)
        .query({ $filter: encodeURIComponent(filter), $select: 'id', $top: 1 })
        .header('Prefer', IMMUTABLE_IDS)
        .get(),
    );
    return Array.isArray(body?.value) && body.value.length > 0;
  }

  async createSubscription(input: { notificationUrl: string; expiresAt: number; clientState: string }): Promise<Subscription> {
    const body = await this.call('create the mail subscription', (api) =>
      api('/subscriptions')
        .header('Prefer', IMMUTABLE_IDS)
        .post({
          changeType: 'created',
          notificationUrl: input.notificationUrl,
          lifecycleNotificationUrl: input.notificationUrl,
          resource: `${this.user.slice(1)}/mailFolders('inbox')/messages`,
          expirationDateTime: new Date(input.expiresAt).toISOString(),
          clientState: input.clientState,
        }),
    );
    return toSubscription(body);
  }

  async renewSubscription(id: string, expiresAt: number): Promise<Subscription> {
    const body = await this.call('renew the mail subscription', (api) => api(`/subscriptions/${encodeURIComponent(id)}`).patch({ expirationDateTime: new Date(expiresAt).toISOString() }));
    return toSubscription(body);
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.call('delete the mail subscription', (api) => api(`/subscriptions/${encodeURIComponent(id)}`).delete());
  }

  /** Checks the mailbox answers (readiness, doctor). */
  async probe(): Promise<void> {
    await this.call('reach the mailbox', (api) => api(`${this.user}/mailFolders/inbox`).select('id').get());
  }

  /** One Graph call through the shared peer: its signal reaches the SDK's fetch, so a timeout cancels the request. */
  private call<T>(what: string, request: (api: (path: string) => GraphRequest) => Promise<T>, options?: CallOptions): Promise<T> {
    return this.peer.call(what, (signal) => request((path) => this.client.api(path).option('signal', signal)), this.token, options);
  }
}

/** Sending mail must not happen twice: tried again inline only when Graph certainly did not take it. */
const SEND_ONCE: CallOptions = { idempotent: false };

/**
 * The code (GraphError.code, from the thrown error's name) of a request that never reached Graph:
 * the connection was refused or the host not found, so nothing of it was sent.
 */
const NOT_SENT = 'RequestNotSent';

/** Network errors that happen before a byte of the request is written (Node's errno codes, https://nodejs.org/api/errors.html#common-system-errors). */
const BEFORE_SENDING = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Tells a request that never left from one that may have reached Graph. fetch reports both as
 * "fetch failed" with the reason in `cause`, and the SDK keeps only the message and the error's
 * name (as GraphError.code): so a refusal is rethrown under a name of its own.
 */
class RefusedConnectionHandler implements Middleware {
  private next: Middleware | undefined;

  async execute(context: Context): Promise<void> {
    try {
      await this.next!.execute(context);
    } catch (error) {
      const code = networkCode(error);
      if (code === undefined || !BEFORE_SENDING.has(code)) throw error;
      const refused = new Error(`${(error as Error).message} (${code}: nothing was sent)`);
      refused.name = NOT_SENT;
      throw refused;
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** The errno code of a fetch failure: on its cause, or on every attempt of a multi-address connect (AggregateError). */
function networkCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  const codes = new Set((cause?.errors ?? []).map((e) => e?.code));
  return codes.size === 1 && typeof [...codes][0] === 'string' ? ([...codes][0] as string) : undefined;
}

const GRAPH_ERRORS = {
  toError: toGraphError,
  notTaken: (failure: GraphRequestError) => failure.details.code === NOT_SENT,
  timedOut: (what: string) => new GraphRequestError('transient', `Graph did not answer in time to ${what}`),
  paused: (what: string, retryAfterMs: number) =>
    new GraphRequestError('throttled', `Graph asked us to wait ${Math.ceil(retryAfterMs / 1000)} s before we ${what}`, { status: 429, retryAfterMs }),
};

function isPublicGraph(url: URL): boolean {
  return /(^|\.)graph\.microsoft\.(com|us)$|^microsoftgraph\.chinacloudapi\.cn$|^dod-graph\.microsoft\.us$/i.test(url.hostname);
}

/** The SDK hands back fetch's body: a web stream on Node's own fetch (a Node stream on older polyfills). */
function toNodeStream(body: unknown): Readable {
  if (body instanceof Readable) return body;
  if (body && typeof (body as WebReadableStream).getReader === 'function') return Readable.fromWeb(body as WebReadableStream);
  if (body === undefined || body === null) return Readable.from([]);
  throw new GraphRequestError('invalid', 'Graph answered an attachment download without a body');
}

function toDeltaPage(body: any): DeltaPage {
  const value: any[] = Array.isArray(body?.value) ? body.value : [];
  return {
    messages: value.filter((m) => !m?.['@removed']),
    removed: value.filter((m) => m?.['@removed']).map((m) => String(m.id)),
    nextLink: typeof body?.['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined,
    deltaLink: typeof body?.['@odata.deltaLink'] === 'string' ? body['@odata.deltaLink'] : undefined,
  };
}

function toSubscription(body: any): Subscription {
  const expiresAt = Date.parse(body?.expirationDateTime);
  if (typeof body?.id !== 'string' || Number.isNaN(expiresAt)) throw new GraphRequestError('invalid', 'Graph answered a subscription request without an id and expiry');
  return { id: body.id, expiresAt };
}

export function toGraphError(error: unknown, what: string): GraphRequestError {
  if (error instanceof GraphRequestError) return error;
  if (error instanceof GraphError) {
    const status = error.statusCode ?? 0;
    const retryAfterMs = parseRetryAfter(error.headers?.get?.('retry-after') ?? null, Date.now());
    const failure = status === -1 || status === 0 ? 'transient' : failureOf(status);
    return new GraphRequestError(failure, `Graph could not ${what}: ${status > 0 ? `${status} ` : ''}${error.code ?? ''} ${error.message}`.trim(), {
      status,
      ...(error.code ? { code: error.code } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(error.requestId ? { requestId: error.requestId } : {}),
    });
  }
  const err = error as { name?: string; message?: string; statusCode?: number; errorResponse?: { error?: string } };
  // @azure/identity: the token endpoint failed. Bad credentials are a configuration problem; anything
  // else (the endpoint down, a timeout) passes.
  if (err?.name === 'AuthenticationError' || err?.name === 'CredentialUnavailableError' || err?.name === 'AggregateAuthenticationError') {
    const badCredentials = /invalid_client|unauthorized_client|AADSTS7000215|AADSTS700016|AADSTS90002/.test(`${err.message} ${err.errorResponse?.error ?? ''}`);
    return new GraphRequestError(badCredentials ? 'credentials' : 'transient', `could not get a Graph token to ${what}: ${firstLine(err.message)}`);
  }
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return new GraphRequestError('transient', `Graph did not answer in time to ${what}`);
  return new GraphRequestError('transient', `Graph could not ${what}: ${firstLine(err?.message ?? String(error))}`);
}

const firstLine = (text: string | undefined) => (text ?? '').split('\n')[0]!.slice(0, 300);
