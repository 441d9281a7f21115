import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from '../../src/domain/backoff.js';
import { SlidingWindowLimiter, TEAMS_CONVERSATION_LIMITS } from '../../src/domain/rate-limit.js';

describe('sliding-window limiter', () => {
  const take = (limiter: SlidingWindowLimiter, key: string, now: number) => {
    const answer = limiter.check(key, now);
    if (answer.ok) limiter.record(key, now);
    return answer;
  };

  it("allows Teams' 7 per second, then says exactly when the 8th may go", () => {
    const limiter = new SlidingWindowLimiter(TEAMS_CONVERSATION_LIMITS);
    for (let i = 0; i < 7; i++) expect(take(limiter, 'c', 1_000 + i * 10).ok).toBe(true);
    expect(take(limiter, 'c', 1_100)).toEqual({ ok: false, retryAt: 2_000 });
    expect(take(limiter, 'c', 2_000).ok).toBe(true);
  });

  it('applies the tightest window: 8 per 2 seconds holds back the 9th even when each second has room', () => {
    const limiter = new SlidingWindowLimiter(TEAMS_CONVERSATION_LIMITS);
    for (let i = 0; i < 4; i++) take(limiter, 'c', i * 100);
    for (let i = 0; i < 4; i++) take(limiter, 'c', 1_000 + i * 100);
    const ninth = take(limiter, 'c', 1_500);
    expect(ninth).toEqual({ ok: false, retryAt: 2_000 });
  });

  it('keeps keys apart', () => {
    const limiter = new SlidingWindowLimiter([{ limit: 1, windowMs: 1_000 }]);
    expect(take(limiter, 'a', 0).ok).toBe(true);
    expect(take(limiter, 'b', 0).ok).toBe(true);
    expect(take(limiter, 'a', 10).ok).toBe(false);
  });

  it('widens windows by the safety margin', () => {
    const limiter = new SlidingWindowLimiter([{ limit: 1, windowMs: 1_000 }], 50);
    take(limiter, 'a', 0);
    expect(take(limiter, 'a', 1_000)).toEqual({ ok: false, retryAt: 1_050 });
  });

  it('counts a send at the time its answer came back, when that is later than the decision', () => {
    const plain = new SlidingWindowLimiter([{ limit: 2, windowMs: 1_000 }]);
    const restamped = new SlidingWindowLimiter([{ limit: 2, windowMs: 1_000 }]);
    for (const limiter of [plain, restamped]) {
      take(limiter, 'c', 0);
      take(limiter, 'c', 10);
    }
    // The first request sat in a queue and its answer came at 400: it still counts at 1000.
    restamped.restamp('c', 0, 400);
    expect(plain.check('c', 1_000).ok).toBe(true);
    expect(restamped.check('c', 1_000)).toEqual({ ok: false, retryAt: 1_010 });
    expect(restamped.check('c', 1_010).ok).toBe(true);
  });

  it('never lets more than the limit through in any window, whatever the arrival pattern', () => {
    const limiter = new SlidingWindowLimiter(TEAMS_CONVERSATION_LIMITS);
    const accepted: number[] = [];
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let now = 0; now < 120_000; now += Math.floor(random() * 40)) if (take(limiter, 'c', now).ok) accepted.push(now);
    for (const { limit, windowMs } of TEAMS_CONVERSATION_LIMITS) {
      for (let i = 0; i + limit < accepted.length; i++) expect(accepted[i + limit]! - accepted[i]!).toBeGreaterThanOrEqual(windowMs);
    }
    // And it is not too timid: the 60-per-30-seconds window binds, so about 2 per second get through.
    expect(accepted.length).toBeGreaterThan(230);
  });
});

describe('backoff', () => {
  const options = { baseMs: 1_000, capMs: 20_000, jitter: 0.2 };
  it('doubles per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, options, () => 0.5))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 20_000]);
  });
  it('spreads retries by the jitter fraction either way', () => {
    expect(backoffDelay(2, options, () => 0)).toBe(1_600);
    expect(backoffDelay(2, options, () => 0.999_999)).toBe(2_400);
  });
  it('reads Retry-After as seconds or as a date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
