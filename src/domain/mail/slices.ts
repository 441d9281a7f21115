/**
 * Long text work written once, run two ways. A step function is a generator that does its work in
 * small pieces and `yield`s between them; `runNow` runs it to the end at once (for the synchronous
 * API), `runInSlices` gives the event loop back whenever a slice has taken longer than its budget, so
 * a 5 MB email does not hold up chat turns. Pure: no I/O, only `setImmediate` to yield.
 */
export type Steps<T> = Generator<void, T, void>;

export function runNow<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** Default time a slice may run before the event loop gets a turn (well under the 50 ms a turn may wait). */
export const SLICE_BUDGET_MS = 8;

const giveWay = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runInSlices<T>(steps: Steps<T>, budgetMs = SLICE_BUDGET_MS): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (performance.now() - sliceStart >= budgetMs) {
      await giveWay();
      sliceStart = performance.now();
    }
  }
}
