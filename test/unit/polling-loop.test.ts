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
    const loop = new PollingLoop({ round: work.round, idleDelay: async () => (asked++, nextDue), onError: (e) => { throw e; }, recheckAfterMs: 0 });
    loop.start();
    await work.reached(1);
    await until(() => asked === 1);

    // A reminder an hour away changes nothing: the loop asks again, and goes back to sleep.
    loop.recheck();
    await until(() => asked >= 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(asked).toBe(2);
    expect(work.count).toBe(1);

    // Something due now: the next round runs at once instead of after the hour.
    nextDue = 0;
    loop.recheck();
    await work.reached(2);
    await loop.stop();
  });

  it('shares one look among the rechecks of a busy moment', async () => {
    const work = rounds();
    let asked = 0;
    const loop = new PollingLoop({ round: work.round, idleDelay: async () => (asked++, 3_600_000), onError: (e) => { throw e; }, recheckAfterMs: 250 });
    loop.start();
    await until(() => asked === 1);
    // Ticket changes a millisecond apart: each recheck only shortens the nap, asking nothing.
    const started = Date.now();
    while (Date.now() - started < 20) {
      loop.recheck();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(asked).toBe(1);
    await until(() => asked >= 2);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(asked).toBe(2);
    expect(work.count).toBe(1);
    await loop.stop();
  });
});

/** Waits (a turn of the event loop at a time, at most 2 s) until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
