/**
 * Readiness per dependency: the database (without which the replica is out of rotation), the bot's
 * credentials, the mailbox, HubSpot. A probe that fails marks its dependency degraded while it worked
 * within the last five minutes and down after that; a broken integration never takes the bot out of
 * rotation, only the database does. Results are kept for `ttlMs` so frequent probes cost nothing.
 */

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface DependencyHealth {
  status: HealthStatus;
  lastError?: string;
  lastOkAt?: string;
  checkedAt: string;
}

export interface HealthReport {
  ready: boolean;
  checks: Record<string, DependencyHealth>;
}

interface Probe {
  name: string;
  probe: () => Promise<void>;
  /** The replica cannot serve without it. */
  critical?: boolean;
  /** Work failing in the background (a worker's last error), even when the probe passes. */
  workerError?: () => string | undefined;
}

const DEGRADED_FOR_MS = 5 * 60_000;

export class HealthChecks {
  private readonly last = new Map<string, { okAt?: number; error?: string; at: number; status: HealthStatus }>();
  private running: Promise<HealthReport> | undefined;

  constructor(
    private readonly probes: Probe[],
    private readonly ttlMs = 15_000,
    private readonly timeoutMs = 5_000,
  ) {}

  async report(options: { fresh?: boolean } = {}): Promise<HealthReport> {
    return (this.running ??= this.check(options.fresh ?? false).finally(() => (this.running = undefined)));
  }

  private async check(fresh: boolean): Promise<HealthReport> {
    const now = Date.now();
    await Promise.all(
      this.probes.map(async (p) => {
        const previous = this.last.get(p.name);
        // The database is always checked: readiness must follow it at once.
        if (!fresh && !p.critical && previous && now - previous.at < this.ttlMs) return;
        let error: string | undefined;
        try {
          await withTimeout(p.probe(), this.timeoutMs);
        } catch (e) {
          error = e instanceof Error ? e.message.split('\n')[0] : String(e);
        }
        error ??= p.workerError?.();
        const okAt = error === undefined ? now : previous?.okAt;
        const status: HealthStatus = error === undefined ? 'ok' : !p.critical && okAt !== undefined && now - okAt < DEGRADED_FOR_MS ? 'degraded' : 'down';
        this.last.set(p.name, { ...(okAt !== undefined ? { okAt } : {}), ...(error !== undefined ? { error } : {}), at: now, status });
      }),
    );
    const checks: Record<string, DependencyHealth> = {};
    for (const p of this.probes) {
      const r = this.last.get(p.name)!;
      checks[p.name] = { status: r.status, ...(r.error ? { lastError: r.error } : {}), ...(r.okAt ? { lastOkAt: new Date(r.okAt).toISOString() } : {}), checkedAt: new Date(r.at).toISOString() };
    }
    const ready = this.probes.filter((p) => p.critical).every((p) => checks[p.name]!.status === 'ok');
    return { ready, checks };
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(timer));
}
