import { Client } from '@hubspot/api-client';
import { parseRetryAfter } from '../../domain/backoff.js';
import { SlidingWindowLimiter } from '../../domain/rate-limit.js';
import { cancellableAgent, withSignal } from '../outbound/cancellable-agent.js';
import { OutboundPeer, type RetryPolicy } from '../outbound/peer.js';

/**
 * HubSpot through @hubspot/api-client with a private-app token: contacts by email and their companies,
 * in batches of up to 100, and (optionally) tickets. Our own limiter keeps us inside the account's
 * per-10-second and daily limits (https://developers.hubspot.com/docs/api/usage-details), so 429s are
 * rare; one that still comes back (or a 5xx) is retried through the shared OutboundPeer
 * (../outbound/peer.ts) after the time HubSpot asks for, a bounded number of times, and pauses the
 * account's calls meanwhile. The library's own retry (which ignores Retry-After and sleeps
 * 10 s × attempt) is off, and since the library passes no AbortSignal to its fetch, a timed-out
 * attempt is cancelled through the agent (../outbound/cancellable-agent.ts). Failures come out as
 * HubSpotError.
 */

export type HubSpotFailure = 'throttled' | 'transient' | 'credentials' | 'invalid';

export class HubSpotError extends Error {
  override readonly name = 'HubSpotError';
  constructor(
    readonly failure: HubSpotFailure,
    message: string,
    readonly details: { status?: number; policy?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.failure === 'throttled' || this.failure === 'transient';
  }
}

export interface HubSpotClientConfig {
  accessToken: string;
  baseUrl: string;
  limitPer10s: number;
  dailyLimit: number;
}

/** `maxInlineWaitMs`: waits longer than this (a daily limit) are not slept through: the error goes to the caller. */
export type HubSpotClientOptions = RetryPolicy;

export const DEFAULT_HUBSPOT_OPTIONS: HubSpotClientOptions = { attempts: 3, maxInlineWaitMs: 15_000, timeoutMs: 15_000, backoff: { baseMs: 300, capMs: 5_000, jitter: 0.2 } };

export const BATCH_MAX = 100;

export interface CrmObject {
  id: string;
  properties: Record<string, string | null>;
}

export class HubSpotClient {
  private readonly client: Client;
  private readonly options: HubSpotClientOptions;
  private readonly tenSeconds: SlidingWindowLimiter;
  private day = '';
  private usedToday = 0;
  /** HubSpot's limits are per account: one peer, paused as a whole after a 429. */
  private readonly peer: OutboundPeer<HubSpotError>;

  constructor(
    private readonly config: HubSpotClientConfig,
    options: Partial<HubSpotClientOptions> = {},
  ) {
    this.options = { ...DEFAULT_HUBSPOT_OPTIONS, ...options };
    this.client = new Client({ accessToken: config.accessToken, basePath: config.baseUrl, numberOfApiCallRetries: 0, httpAgent: cancellableAgent(new URL(config.baseUrl).protocol) });
    this.peer = new OutboundPeer('hubspot', HUBSPOT_ERRORS, { ...this.options, defaultThrottleMs: 1_000 });
    // 250 ms of margin: HubSpot counts a request when it arrives, a little after we decide to send it.
    this.tenSeconds = new SlidingWindowLimiter([{ limit: config.limitPer10s, windowMs: 10_000 }], 250);
  }

  /** Contacts by email (≤ 100): the ones found, by lower-cased email. Unknown addresses are simply absent (HubSpot's 207). */
  async contactsByEmail(emails: readonly string[], properties: readonly string[]): Promise<Map<string, CrmObject>> {
    if (emails.length === 0) return new Map();
    const response = await this.call('read contacts by email', () =>
      this.client.crm.contacts.batchApi.read({ idProperty: 'email', inputs: emails.map((id) => ({ id })), properties: [...properties, 'email'], propertiesWithHistory: [] }, false, WITH_AGENT),
    );
    const found = new Map<string, CrmObject>();
    for (const result of response.results ?? []) {
      const email = String(result.properties?.email ?? '').toLowerCase();
      if (email) found.set(email, { id: String(result.id), properties: result.properties ?? {} });
    }
    return found;
  }

  /** Contact id → company ids (primary first), for up to 100 contacts, in one call (associations v4). */
  async companiesOfContacts(contactIds: readonly string[]): Promise<Map<string, string[]>> {
    if (contactIds.length === 0) return new Map();
    const response = await this.call('read contact→company associations', () =>
      this.client.crm.associations.v4.batchApi.getPage('contacts', 'companies', { inputs: contactIds.map((id) => ({ id })) }, WITH_AGENT),
    );
    const map = new Map<string, string[]>();
    for (const result of response.results ?? []) {
      const targets = [...(result.to ?? [])].sort((a, b) => Number(isPrimary(b)) - Number(isPrimary(a)));
      map.set(String(result._from?.id), targets.map((t) => String(t.toObjectId)));
    }
    return map;
  }

  async companies(ids: readonly string[], properties: readonly string[]): Promise<Map<string, CrmObject>> {
    if (ids.length === 0) return new Map();
    const response = await this.call('read companies', () => this.client.crm.companies.batchApi.read({ inputs: ids.map((id) => ({ id })), properties: [...properties], propertiesWithHistory: [] }, false, WITH_AGENT));
    return new Map((response.results ?? []).map((r) => [String(r.id), { id: String(r.id), properties: r.properties ?? {} }]));
  }

  async createTicket(properties: Record<string, string>, associations: { contactId?: string; companyId?: string }): Promise<string> {
    const created = await this.call('create a ticket', () =>
      this.client.crm.tickets.basicApi.create({
        properties,
        associations: [
          ...(associations.contactId ? [{ to: { id: associations.contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 16 }] }] : []),
          ...(associations.companyId ? [{ to: { id: associations.companyId }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 26 }] }] : []),
        ],
      }, WITH_AGENT),
    );
    return String(created.id);
  }

  async updateTicket(id: string, properties: Record<string, string>): Promise<void> {
    await this.call('update a ticket', () => this.client.crm.tickets.basicApi.update(id, { properties }, undefined, WITH_AGENT));
  }

  /** A cheap authenticated call: is HubSpot reachable with this token? */
  async probe(): Promise<void> {
    await this.call('reach HubSpot', () => this.client.crm.contacts.basicApi.getPage(1, undefined, ['email'], undefined, undefined, undefined, WITH_AGENT));
  }

  /** Requests sent, and 429s received (for metrics and the benchmark). */
  get counters(): { readonly requests: number; readonly throttled: number } {
    return this.peer.counters;
  }

  /** When the next call may go without breaking our own limits or a pause HubSpot asked for (now, or later). */
  nextSlotAt(now = Date.now()): number {
    const check = this.tenSeconds.check('account', now);
    return Math.max(check.ok ? now : check.retryAt, this.peer.pausedUntil);
  }

  /** One HubSpot call through the shared peer, after a slot in our own budget; the attempt's signal cancels its request through the agent. */
  private call<T>(what: string, request: () => Promise<T>): Promise<T> {
    return this.peer.call(what, (signal) => withSignal(signal, request), () => this.slot(what));
  }

  /** Waits for room in our 10-second window; refuses outright when today's budget is spent. */
  private async slot(what: string): Promise<void> {
    const today = new Date().toISOString().slice(0, 10);
    if (today !== this.day) [this.day, this.usedToday] = [today, 0];
    if (this.usedToday >= this.config.dailyLimit) {
      const midnight = Date.parse(`${today}T00:00:00Z`) + 86_400_000;
      throw new HubSpotError('throttled', `HubSpot's daily budget (${this.config.dailyLimit}) is used up; could not ${what}`, { policy: 'DAILY', retryAfterMs: midnight - Date.now() });
    }
    for (;;) {
      const now = Date.now();
      const check = this.tenSeconds.check('account', now);
      if (check.ok) {
        this.tenSeconds.record('account', now);
        this.usedToday++;
        return;
      }
      await sleep(check.retryAt - now);
    }
  }
}

function isPrimary(target: { associationTypes?: Array<{ typeId?: number; label?: string | null }> }): boolean {
  return (target.associationTypes ?? []).some((t) => t.typeId === 1 || /primary/i.test(t.label ?? ''));
}

export function toHubSpotError(error: unknown, what: string): HubSpotError {
  if (error instanceof HubSpotError) return error;
  const e = error as { code?: number; body?: any; headers?: Record<string, string>; message?: string; name?: string };
  const status = typeof e?.code === 'number' ? e.code : undefined;
  if (status !== undefined) {
    const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
    const message = `HubSpot could not ${what}: ${status} ${body?.message ?? ''}`.trim();
    if (status === 429) {
      const policy = body?.policyName ?? undefined;
      const retryAfterMs =
        parseRetryAfter(e.headers?.['retry-after'] ?? null, Date.now()) ??
        (policy === 'DAILY' ? Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) + 86_400_000 - Date.now() : policy === 'TEN_SECONDLY_ROLLING' ? 10_000 : 1_000);
      return new HubSpotError('throttled', message, { status, ...(policy ? { policy } : {}), retryAfterMs });
    }
    if (status === 401 || status === 403) return new HubSpotError('credentials', `${message} (check HUBSPOT_ACCESS_TOKEN and the private app's scopes)`, { status });
    if (status >= 500 || status === 408) return new HubSpotError('transient', message, { status });
    return new HubSpotError('invalid', message, { status });
  }
  return new HubSpotError('transient', `HubSpot could not ${what}: ${(e?.message ?? String(error)).split('\n')[0]}`);
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Per-call options that make the generated API classes apply the configured middleware (the agent
 * above): in @hubspot/api-client 13 they skip it when a call passes no options at all.
 */
const WITH_AGENT = { middleware: [], middlewareMergeStrategy: 'append' as const };

const HUBSPOT_ERRORS = {
  toError: toHubSpotError,
  timedOut: (what: string) => new HubSpotError('transient', `HubSpot did not answer in time to ${what}`),
  paused: (what: string, retryAfterMs: number) => new HubSpotError('throttled', `HubSpot asked us to wait ${Math.ceil(retryAfterMs / 1000)} s; could not ${what}`, { status: 429, retryAfterMs }),
};
