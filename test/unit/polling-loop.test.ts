import { describe, expect, it } from 'vitest';
import { PollingLoop } from '../../src/workers/polling-loop.js';

/** Resolves when `count` rounds have run. */
function rounds() {
  let count = 0;
  const waiters: Array<{ at: number; resolve: () => void }> = [];
  return {
    get count() {
      return count;
    },
    round: async () => {
      count += 1;
      for (const w of waiters.filter((w) => w.at <= count)) w.resolve();
      return 0;
    },
    reached: (at: number) => new Promise<void>((resolve) => (count >= at ? resolve() : waiters.push({ at, resolve }))),
  };
}

describe('the polling loop', () => {
  it('wakes for work that became due sooner than its nap, without a round when nothing is due', async () => {
    const work = rounds();
    let nextDue = 3_600_000; // nothing for an hour
    let asked = 0;
    const loop = new PollingLoop({ round: work.round, idleDelay: async () => (asked++, nextDue), onError: (e) => { throw e; } });
    loop.start();
    await work.reached(1);
    await new Promise((resolve) => setImmediate(resolve));

    // A reminder an hour away changes nothing: the loop asks again, and goes back to sleep.
    loop.recheck();
    await new Promise((resolve) => setImmediate(resolve));
    expect(asked).toBe(2);
    expect(work.count).toBe(1);

    // Something due now: the next round runs at once instead of after the hour.
    nextDue = 0;
    loop.recheck();
    await work.reached(2);
    await loop.stop();
  });
});
