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
 * Reads a Retry-After header: delta-seconds or an HTTP date. Returns milliseconds from `now`, or
 * undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
