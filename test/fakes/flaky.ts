/**
 * Faults a fake peer answers with at random, reproducibly (a seeded generator): Retry-After 429s, 503s
 * and requests that never get an answer (the client's timeout must fire). `rate` is the share of
 * requests that fail.
 */
export type RandomFault = { kind: 429; retryAfterSeconds: number } | { kind: 503 } | { kind: 'hang' };

export class FlakyPeer {
  private state: number;
  /** When each fault was answered (for "never retried sooner than Retry-After" checks). */
  readonly injected: Array<{ fault: RandomFault; key: string; at: number }> = [];

  constructor(
    readonly rate: number,
    seed = 42,
  ) {
    this.state = seed >>> 0;
  }

  /** A fault for this request, or undefined to answer it normally. */
  next(key: string): RandomFault | undefined {
    if (this.random() >= this.rate) return undefined;
    const pick = this.random();
    const fault: RandomFault = pick < 0.4 ? { kind: 429, retryAfterSeconds: 1 } : pick < 0.8 ? { kind: 503 } : { kind: 'hang' };
    this.injected.push({ fault, key, at: Date.now() });
    return fault;
  }

  /** mulberry32 */
  private random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
