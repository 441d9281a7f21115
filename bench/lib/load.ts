/**
 * A closed-loop load generator: `concurrency` workers each send a request, wait for the answer, and send
 * the next, for `durationMs`. Reports throughput and latency percentiles; non-2xx answers are counted.
 * `send` is told which worker calls it (0 … concurrency − 1), so each worker can be a different user.
 */
export interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export async function runLoad(send: (worker: number) => Promise<number>, options: { concurrency: number; durationMs: number }): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const status = await send(worker).catch(() => 0);
        latencies.push(performance.now() - t0);
        if (status < 200 || status >= 300) errors += 1;
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, errors, perSecond: (latencies.length / elapsed) * 1000, p50: at(0.5), p99: at(0.99) };
}

export function formatLoad(name: string, r: LoadResult): string {
  return `${name.padEnd(28)} ${r.perSecond.toFixed(0).padStart(6)} turns/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms   errors ${r.errors}`;
}

/** The middle value (the upper middle of an even count): what a typical round did, not the best or worst. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
