/**
 * What went wrong talking to Graph, in the terms callers act on: wait and retry (throttled, with the
 * time Graph asked for), retry with backoff (transient: 5xx, timeouts, the network, the token
 * endpoint), or stop and tell an operator (forbidden, not found, a bad request, bad credentials).
 */
export type GraphFailure = 'throttled' | 'transient' | 'not-found' | 'forbidden' | 'credentials' | 'invalid';

export class GraphRequestError extends Error {
  override readonly name = 'GraphRequestError';
  constructor(
    readonly failure: GraphFailure,
    message: string,
    readonly details: { status?: number; code?: string; retryAfterMs?: number; requestId?: string } = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.failure === 'throttled' || this.failure === 'transient';
  }
}

export const isGraphError = (error: unknown, failure?: GraphFailure): error is GraphRequestError =>
  error instanceof GraphRequestError && (failure === undefined || error.failure === failure);

/** Maps an HTTP status (and Graph's error code) to a failure kind. */
export function failureOf(status: number): GraphFailure {
  if (status === 429) return 'throttled';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 401) return 'credentials';
  if (status === 403) return 'forbidden';
  if (status === 408 || status >= 500 || status === 0) return 'transient';
  return 'invalid';
}
