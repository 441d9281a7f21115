import http, { STATUS_CODES, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { DeskEvent } from '../../domain/desk-events.js';
import { parseRetryAfter } from '../../domain/backoff.js';
import type { WindowRule } from '../../domain/rate-limit.js';
import { AddressGuard, AddressRefusedError, type Resolver } from '../outbound/address-guard.js';
import { TargetError, type DeliveryContext, type DeliveryResult, type NotifyTarget } from '../notify/target.js';
import { WebhookSigner, type SignatureHeaders } from './signature.js';

/**
 * A signed webhook: each desk event is POSTed as its JSON to one URL, signed the Standard Webhooks
 * way (https://www.standardwebhooks.com/). The delivery worker owns retries and dead letters; this
 * target sends one attempt and says what the answer means, following the spec's "Delivery success
 * and failure": 2xx is success, a redirect is a failure (the URL should be updated rather than
 * followed), 410 means the receiver wants no more, 429 asks us to slow down, and the rest fail.
 *
 * Every request goes through the AddressGuard, on the address actually connected to, so the URL in
 * the config file cannot point the desk at its own network (see address-guard.ts).
 */

export interface WebhookTargetOptions {
  /** The integration's name from the config file. */
  name: string;
  /** http: or https:, without credentials; the query string is sent but never shown. */
  url: string;
  /** `whsec_<base64>` secrets: one, or the new and the old while rotating. */
  secrets: string[];
  /** Let the URL reach loopback addresses (tests, a receiver on the same machine). */
  allowLoopback?: boolean;
  /** Let the URL reach private addresses (RFC 1918, 100.64/10, fc00::/7): a receiver inside the network. */
  allowPrivate?: boolean;
  /** Per request, answer body included. Default 10 s. */
  timeoutMs?: number;
  /** How names are resolved (tests map names to addresses). Default: the system resolver. */
  resolver?: Resolver;
  userAgent?: string;
  /** The most deliveries a second this receiver takes (`maxPerSecond` in the rules file); unset: no limit of ours. */
  maxPerSecond?: number;
}

/** A configuration mistake found at construction: names the webhook and what is wrong, never a secret. */
export class WebhookConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookConfigError';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** What we read of an answer: enough for an error message, not enough for a receiver to flood us. */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** What of an error answer goes into the message admins see. */
const ANSWER_EXCERPT_CHARS = 200;
const DEFAULT_USER_AGENT = 'teams-service-desk-webhooks/1';

/** The status codes after which the same request may well succeed later (RFC 9110 §15.5.9, RFC 8470 §5.2). */
const TRANSIENT_4XX = new Set([408, 425]);

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  /** The first MAX_ANSWER_BYTES of the body, as text. */
  text: string;
}

export class WebhookTarget implements NotifyTarget {
  readonly kind = 'webhook' as const;
  readonly followsTickets = false;
  /**
   * None by default: receivers differ too much for one default to fit, each event is one request, and
   * a receiver that wants fewer says so with 429 and Retry-After, which the worker obeys. An admin who
   * knows the receiver's pace sets `maxPerSecond`.
   */
  readonly limits: readonly WindowRule[];
  readonly name: string;
  private readonly url: URL;
  private readonly signer: WebhookSigner;
  private readonly guard: AddressGuard;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  /**
   * A pool of our own: sockets in a shared pool (http.globalAgent) are keyed by host and port, not by
   * who vetted the address, so a connection another client opened could otherwise be reused here.
   */
  private readonly agent: http.Agent;

  constructor(options: WebhookTargetOptions) {
    if (typeof options.name !== 'string' || options.name.trim() === '') throw new WebhookConfigError('a webhook needs a name');
    this.name = options.name;
    this.limits = options.maxPerSecond ? [{ limit: options.maxPerSecond, windowMs: 1_000 }] : [];
    const owner = `webhook '${options.name}'`;
    this.url = parseWebhookUrl(options.url, owner);
    this.signer = new WebhookSigner(options.secrets, owner);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new WebhookConfigError(`the time-out of ${owner} must be a positive number of milliseconds`);
    this.timeoutMs = timeoutMs;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.guard = new AddressGuard({
      allowLoopback: options.allowLoopback === true,
      allowPrivate: options.allowPrivate === true,
      ...(options.resolver ? { resolver: options.resolver } : {}),
    });
    this.agent = this.url.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** Events for one receiver share a lane: its origin. */
  laneOf(_event: DeskEvent): string {
    return this.url.origin;
  }

  /** Origin and path: the query string may hold a token, so it is never shown. */
  describe(): string {
    return `${this.url.origin}${this.url.pathname}`;
  }

  async deliver(event: DeskEvent, context: DeliveryContext): Promise<DeliveryResult> {
    const body = JSON.stringify(event);
    let signed: SignatureHeaders;
    try {
      signed = this.signer.headers(event.id, Math.floor(Date.now() / 1000), body);
    } catch (error) {
      throw new TargetError('permanent', `event ${JSON.stringify(String(event.id).slice(0, 80))} cannot be sent as a Standard Webhook: ${(error as Error).message}`, {}, { cause: error });
    }
    const answer = await this.post(body, signed, context.signal);
    return { summary: this.judge(answer) };
  }

  /** Frees the pooled connections (at shutdown). */
  close(): void {
    this.agent.destroy();
  }

  /** The answer's meaning: a summary for 2xx, a TargetError for everything else. */
  private judge(answer: Answer): string {
    const { status } = answer;
    const statusLine = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
    if (status >= 200 && status < 300) return statusLine;
    if (status >= 300 && status < 400) {
      throw new TargetError('permanent', `the receiver answered ${statusLine}; redirects are not followed (Location: ${this.locationOrigin(answer.headers.location)}): update the webhook's URL`, { status });
    }
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(headerText(answer.headers['retry-after']), Date.now());
      const when = retryAfterMs === undefined ? '' : `, retry after ${formatSeconds(retryAfterMs)}`;
      throw new TargetError('throttled', `the receiver asked us to slow down (${statusLine}${when})`, { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    }
    const excerpt = answerExcerpt(answer.text);
    const said = excerpt ? `: ${excerpt}` : '';
    if (status >= 500 || TRANSIENT_4XX.has(status)) {
      // A 503 may say when to come back (RFC 9110 §10.2.3); the worker may use it for its next try.
      const retryAfterMs = parseRetryAfter(headerText(answer.headers['retry-after']), Date.now());
      throw new TargetError('transient', `the receiver answered ${statusLine}${said}`, { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    }
    if (status === 410) throw new TargetError('permanent', `the receiver answered ${statusLine}: the endpoint is gone and wants no more events${said}`, { status });
    throw new TargetError('permanent', `the receiver answered ${statusLine}${said}`, { status });
  }

  /** Where a redirect pointed, as an origin only: its path and query are the receiver's business. */
  private locationOrigin(location: string | undefined): string {
    if (!location) return 'none given';
    try {
      return new URL(location, this.url).origin;
    } catch {
      return 'unreadable';
    }
  }

  /** One POST, through the guard; resolves with the answer or rejects with a TargetError. */
  private post(body: string, signed: SignatureHeaders, signal: AbortSignal): Promise<Answer> {
    try {
      this.guard.checkLiteralHost(this.url.hostname);
    } catch (error) {
      return Promise.reject(this.failure(error, signal, false));
    }
    // One signal for the request: the worker's attempt signal or our own time-out, whichever comes first.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timed out'));
    }, this.timeoutMs);
    const stop = () => controller.abort(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    const send = this.url.protocol === 'https:' ? https.request : http.request;
    return new Promise<Answer>((resolve, reject) => {
      const fail = (error: unknown) => reject(this.failure(error, signal, timedOut));
      const request = send(this.url, {
        method: 'POST',
        agent: this.agent,
        lookup: this.guard.lookup,
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': this.userAgent,
          ...signed,
        },
      });
      request.on('error', fail);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') });
        response.on('data', (chunk: Buffer) => {
          if (size >= MAX_ANSWER_BYTES) return;
          chunks.push(chunk.subarray(0, MAX_ANSWER_BYTES - size));
          size += chunk.length;
          // Enough read: the status is what counts, and a receiver that never stops must not hold us.
          if (size >= MAX_ANSWER_BYTES) {
            finish();
            response.destroy();
          }
        });
        response.on('end', finish);
        response.on('error', fail);
      });
      request.end(body);
    }).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    });
  }

  /** A failed request as a TargetError: what went wrong in plain words, and whether to try again. */
  private failure(error: unknown, signal: AbortSignal, timedOut: boolean): TargetError {
    if (error instanceof TargetError) return error;
    if (error instanceof AddressRefusedError) return new TargetError('permanent', error.reason, {}, { cause: error });
    const where = this.url.host;
    if (timedOut && !signal.aborted) {
      return new TargetError('transient', `${where} did not answer within ${formatSeconds(this.timeoutMs)}`, {}, { cause: error });
    }
    if (signal.aborted) {
      const why = signal.reason instanceof Error && signal.reason.message ? ` (${signal.reason.message})` : '';
      return new TargetError('transient', `the delivery to ${where} was stopped before it answered${why}`, {}, { cause: error });
    }
    return new TargetError('transient', `could not reach ${where}: ${networkWords(error)}`, {}, { cause: error });
  }
}

/** The URL, checked: absolute, http: or https:, no user name or password. Never echoed (it may hold a token). */
function parseWebhookUrl(value: string, owner: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WebhookConfigError(`the URL of ${owner} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookConfigError(`the URL of ${owner} must start with https:// or http:// (it is ${url.protocol})`);
  if (url.username || url.password) {
    throw new WebhookConfigError(`the URL of ${owner} must not hold a user name or password: receivers check the webhook-signature instead`);
  }
  if (!url.hostname) throw new WebhookConfigError(`the URL of ${owner} has no host`);
  url.hash = '';
  return url;
}

/** Plain words for a socket or TLS error code. */
function networkWords(error: unknown): string {
  const failure = error as NodeJS.ErrnoException & { errors?: unknown[] };
  // Happy Eyeballs (several addresses tried) fails with an AggregateError: the first attempt's code says enough.
  const code = failure?.code ?? (failure?.errors?.[0] as NodeJS.ErrnoException | undefined)?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'the connection was reset',
    EPIPE: 'the connection was closed while sending',
    ETIMEDOUT: 'the connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ENOTFOUND: 'the host name was not found',
    EAI_AGAIN: 'the host name could not be resolved right now',
    CERT_HAS_EXPIRED: 'its TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
    SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate chain is not trusted',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate could not be verified',
    ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another name',
  };
  if (code && words[code]) return words[code];
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${message}` : message;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The start of an error answer on one line, control characters out: for a message admins read. */
function answerExcerpt(text: string): string {
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > ANSWER_EXCERPT_CHARS ? `${line.slice(0, ANSWER_EXCERPT_CHARS)}…` : line;
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
