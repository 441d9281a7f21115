/**
 * Exponential backoff with full-range jitter, pure: the random source is passed in so tests can pin it.
 * Attempt 1 waits about `baseMs`, each later attempt doubles, capped at `capMs`; jitter spreads retries
 * of many rows that failed together (±`jitter` of the delay).
 */
export function backoffDelay(
  attempt: number,
  options: { baseMs: number; capMs: number; jitter: number },
  random: () => number = Math.random,
): number {
  const exponential = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  const spread = exponential * options.jitter;
  return Math.max(0, Math.round(exponential - spread + random() * 2 * spread));
}

/**
 * Reads a Retry-After header (RFC 9110 §10.2.3, https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3):
 * delay-seconds or an HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms, all in GMT;
 * asctime names no zone, so it is read as GMT rather than local time). Returns milliseconds from `now`
 * (0 for a date already past), or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const date = Date.parse(/\b(GMT|UTC)$/i.test(trimmed) ? trimmed : `${trimmed} GMT`);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
