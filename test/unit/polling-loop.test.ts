import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PollingLoop } from '../../src/workers/polling-loop.js';

/** Counts the rounds the loop runs; each finds nothing to do. */
function rounds() {
  let count = 0;
  return {
    get count() {
      return count;
    },
    round: async () => {
      count += 1;
      return 0;
    },
  };
}

// The loop's naps are timers: fake ones, moved by hand, so each step is exact and no test sleeps.
describe('the polling loop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('wakes for work that became due sooner than its nap, without a round when nothing is due', async () => {
    const work = rounds();
    let nextDue = 3_600_000; // nothing for an hour
    let asked = 0;
    const loop = new PollingLoop({ round: work.round, idleDelay: async () => (asked++, nextDue), onError: (e) => { throw e; }, recheckAfterMs: 0 });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(work.count).toBe(1);
    expect(asked).toBe(1);

    // A reminder an hour away changes nothing: the loop asks again, and goes back to sleep.
    loop.recheck();
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toBe(2);
    await vi.advanceTimersByTimeAsync(59 * 60_000);
    expect(asked).toBe(2);
    expect(work.count).toBe(1);

    // Something due now: the next round runs at once instead of after the hour.
    nextDue = 0;
    loop.recheck();
    await vi.advanceTimersByTimeAsync(1);
    expect(work.count).toBe(2);
    await loop.stop();
  });

  it('shares one look among the rechecks of a busy moment', async () => {
    const work = rounds();
    let asked = 0;
    const loop = new PollingLoop({ round: work.round, idleDelay: async () => (asked++, 3_600_000), onError: (e) => { throw e; }, recheckAfterMs: 250 });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toBe(1);
    // Ticket changes a millisecond apart: each recheck only shortens the nap, asking nothing.
    for (let i = 0; i < 20; i++) {
      loop.recheck();
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(asked).toBe(1);
    // A quarter of a second after the first of them, one look for them all; then the hour's nap again.
    await vi.advanceTimersByTimeAsync(250 - 20);
    expect(asked).toBe(2);
    await vi.advanceTimersByTimeAsync(59 * 60_000);
    expect(asked).toBe(2);
    expect(work.count).toBe(1);
    await loop.stop();
  });
});

describe('stopping the polling loop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stops at once when asked while it is working out how long to nap, instead of napping first', async () => {
    const work = rounds();
    let answer: ((ms: number) => void) | undefined;
    const loop = new PollingLoop({ round: work.round, idleDelay: () => new Promise<number>((resolve) => (answer = resolve)), onError: (e) => { throw e; } });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(answer).toBeDefined();
    // SIGTERM arrives while the loop waits for its idle-delay query; the query then says "30 s".
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    answer!(30_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(true);
    await stopping;
    expect(work.count).toBe(1);
  });
});
