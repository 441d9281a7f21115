/**
 * Sliding-window rate limits, pure: the caller passes `now`. A key (a conversation, a tenant) may take a
 * slot only while every window it is subject to has room; otherwise the answer says when the earliest
 * window frees up, so a scheduler can come back exactly then instead of polling.
 */

export interface WindowRule {
  limit: number;
  windowMs: number;
}

export type Acquire = { ok: true } | { ok: false; retryAt: number };

/**
 * Teams' per-bot, per-thread limits for sending to a conversation (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit). The hourly limit
 * only binds when many messages go to one person, so it applies to personal chats alone.
 */
export const TEAMS_CONVERSATION_LIMITS: readonly WindowRule[] = [
  { limit: 7, windowMs: 1_000 },
  { limit: 8, windowMs: 2_000 },
  { limit: 60, windowMs: 30_000 },
];
export const TEAMS_PERSONAL_HOURLY_LIMIT: WindowRule = { limit: 1_800, windowMs: 3_600_000 };
/** Global per app per tenant: 50 requests per second (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit). */
export const TEAMS_TENANT_LIMITS: readonly WindowRule[] = [{ limit: 50, windowMs: 1_000 }];

export class SlidingWindowLimiter {
  private readonly history = new Map<string, number[]>();
  private rules: readonly WindowRule[];
  private longestWindowMs: number;

  /**
   * `marginMs` widens every window: we stamp an act when we decide to send it, the receiver when the
   * request arrives a few milliseconds later, so a window that looks free to us by a hair would still
   * be full to Teams.
   */
  constructor(rules: readonly WindowRule[], marginMs = 0) {
    if (rules.length === 0) throw new Error('SlidingWindowLimiter needs at least one rule');
    this.rules = rules.map((r) => ({ limit: r.limit, windowMs: r.windowMs + marginMs }));
    this.longestWindowMs = Math.max(...this.rules.map((r) => r.windowMs));
  }

  /** New limits (e.g. a budget now shared with another replica); what was recorded still counts. */
  setRules(rules: readonly WindowRule[], marginMs = 0): void {
    this.rules = rules.map((r) => ({ limit: r.limit, windowMs: r.windowMs + marginMs }));
    this.longestWindowMs = Math.max(...this.rules.map((r) => r.windowMs));
  }

  /** Whether `key` may act at `now`, without taking the slot. */
  check(key: string, now: number): Acquire {
    const times = this.prune(key, now);
    let retryAt = now;
    for (const rule of this.rules) {
      // Count the acts inside (now - window, now]; times are ascending, so walk back from the end.
      let count = 0;
      for (let i = times.length - 1; i >= 0 && times[i]! > now - rule.windowMs; i--) count++;
      if (count >= rule.limit) {
        // The window frees a slot when its oldest counted act falls out of it.
        const oldestCounted = times[times.length - rule.limit]!;
        retryAt = Math.max(retryAt, oldestCounted + rule.windowMs);
      }
    }
    return retryAt > now ? { ok: false, retryAt } : { ok: true };
  }

  /** Records an act at `now` (call only after `check` said ok). */
  record(key: string, now: number): void {
    const times = this.history.get(key);
    if (times) times.push(now);
    else this.history.set(key, [now]);
  }

  /**
   * Moves an act recorded at `was` to `now`: a send is stamped when we decide on it, and stamped again
   * when its answer arrives, the latest it can have reached the receiver. Counting it at the later
   * time keeps our windows from running ahead of the receiver's when requests queue on the way.
   */
  restamp(key: string, was: number, now: number): void {
    const times = this.history.get(key);
    if (!times) return;
    const index = times.indexOf(was);
    if (index === -1) return;
    times.splice(index, 1);
    let at = times.length;
    while (at > 0 && times[at - 1]! > now) at--;
    times.splice(at, 0, now);
  }

  /** Drops what no window can see any more, so memory follows recent traffic only. */
  private prune(key: string, now: number): number[] {
    const times = this.history.get(key);
    if (!times) return [];
    let drop = 0;
    while (drop < times.length && times[drop]! <= now - this.longestWindowMs) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length === 0) this.history.delete(key);
    return times;
  }
}
