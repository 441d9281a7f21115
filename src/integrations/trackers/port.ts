import type { IssueView, SignatureCheck, TrackerName } from '../../domain/issue-trackers.js';

/**
 * The small port every issue tracker adapter implements (linear.ts, jira.ts): another tracker is one
 * adapter more. Calls go through OutboundPeer (timeouts, retries, Retry-After); failures come out as
 * TrackerError.
 */

/** What a tracker's webhook says happened to one issue: its state now, and/or a comment on it. */
export interface TrackerEvent {
  issueKey: string;
  /** The issue as it is after the change (absent when the delivery carried only a comment). */
  issue?: Omit<IssueView, 'tracker'>;
  comment?: { id: string; body: string; author: string };
}

export type VerifiedWebhook = { ok: true; deliveryId: string; events: TrackerEvent[] } | { ok: false; reason: string };

/** A Linear team or Jira project an issue can be created in (the dialog's choices). */
export interface TrackerProject {
  id: string;
  name: string;
}

export interface Tracker {
  readonly name: TrackerName;
  createIssue(input: { project: string; title: string; description: string }): Promise<IssueView>;
  /** The issue, or undefined when the tracker has no such issue (or we may not see it). */
  getIssue(key: string): Promise<IssueView | undefined>;
  addComment(key: string, body: string): Promise<{ id: string }>;
  projects(): Promise<TrackerProject[]>;
  /** Checks a webhook's signature (and freshness) on the raw body, then reads its events. */
  verifyWebhook(raw: string, headers: Readonly<Record<string, string | string[] | undefined>>, now: number): VerifiedWebhook;
}

export class TrackerError extends Error {
  constructor(
    readonly failure: 'throttled' | 'transient' | 'credentials' | 'invalid' | 'not-found',
    message: string,
    readonly details: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'TrackerError';
  }

  get retryable(): boolean {
    return this.failure === 'throttled' || this.failure === 'transient';
  }
}

/** Maps a fetch failure or an HTTP answer to a TrackerError. */
export function trackerError(label: string, what: string, error: unknown): TrackerError {
  if (error instanceof TrackerError) return error;
  const e = error as { name?: string; message?: string; cause?: { code?: string } };
  return new TrackerError('transient', `${label} could not ${what}: ${e?.cause?.code ?? (e?.message ?? String(error)).split('\n')[0]}`);
}

/** `credentialsHint`: which settings to check when the peer refuses our credentials. */
export function errorOfStatus(label: string, what: string, status: number, retryAfter: string | null, detail: string, credentialsHint = ''): TrackerError {
  const message = `${label} answered ${status} to ${what}${detail ? `: ${detail.slice(0, 200)}` : ''}`;
  if (status === 429) {
    const seconds = Number(retryAfter);
    return new TrackerError('throttled', message, { status, ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}) });
  }
  if (status === 401 || status === 403) return new TrackerError('credentials', `${label} refused the desk's credentials${credentialsHint ? ` (check ${credentialsHint})` : ''}`, { status });
  if (status === 404) return new TrackerError('not-found', message, { status });
  if (status >= 500 || status === 408) return new TrackerError('transient', message, { status });
  return new TrackerError('invalid', message, { status });
}

export const trackerVendor = (label: string) => ({
  toError: (error: unknown, what: string) => trackerError(label, what, error),
  timedOut: (what: string) => new TrackerError('transient', `${label} did not answer in time to ${what}`),
  paused: (what: string, retryAfterMs: number) => new TrackerError('throttled', `${label} asked us to wait ${Math.ceil(retryAfterMs / 1000)} s; could not ${what}`, { status: 429, retryAfterMs }),
  notTaken: (failure: TrackerError) => failure.details.status === undefined && /ECONNREFUSED/.test(failure.message),
});

export const DEFAULT_TRACKER_RETRY = { attempts: 3, timeoutMs: 10_000, maxInlineWaitMs: 5_000, backoff: { baseMs: 200, capMs: 2_000, jitter: 0.2 }, concurrency: 4 };

export const headerOf = (headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};
