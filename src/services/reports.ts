import { addDays, localParts, localToInstant } from '../domain/business-time.js';
import type { SlaPolicy } from '../domain/sla.js';
import { PRIORITIES } from '../domain/tickets.js';
import type { Db } from '../store/database.js';
import { openCountsAt, slaOutcomes, type SlaOutcomeRow } from '../store/reports.js';

/** How many of the decided tickets met their SLA, for one priority or tier. */
export interface Attainment {
  key: string;
  met: number;
  decided: number;
}

export interface ReportWindow {
  days: number;
  byPriority: Attainment[];
  byTier: Attainment[];
}

export interface ReportData {
  /** Whose tickets: "the team" or one agent's. */
  scope: string;
  windows: ReportWindow[];
  /** Open tickets at the end of each day, oldest first; the last point is now. */
  trend: Array<{ day: string; open: number }>;
}

export const REPORT_WINDOWS = [7, 30] as const;
const DAY_MS = 86_400_000;

/** SLA attainment and the open-ticket trend: what `report` and the daily digest show. */
export class ReportService {
  constructor(private readonly deps: { db: Db; policy: SlaPolicy; clock: () => number }) {}

  get defaultTimeZone(): string {
    return this.deps.policy.calendars[this.deps.policy.calendarOf.default]!.timeZone;
  }

  async build(options: { timeZone?: string; assigneeId?: number; scope?: string; trendDays?: number } = {}): Promise<ReportData> {
    const now = this.deps.clock();
    const timeZone = options.timeZone ?? this.defaultTimeZone;
    const filter = options.assigneeId !== undefined ? { assigneeId: options.assigneeId } : {};
    const windows = await Promise.all(
      REPORT_WINDOWS.map(async (days) => {
        const rows = await slaOutcomes(this.deps.db, now - days * DAY_MS, filter);
        return { days, byPriority: attainment(rows, 'priority', PRIORITIES), byTier: attainment(rows, 'tier', this.deps.policy.tiers) };
      }),
    );
    const days = dayEnds(now, timeZone, options.trendDays ?? 14);
    const counts = await openCountsAt(this.deps.db, days.map((d) => d.at), filter);
    return { scope: options.scope ?? 'the team', windows, trend: days.map((d, i) => ({ day: d.label, open: counts[i]! })) };
  }
}

function attainment(rows: readonly SlaOutcomeRow[], by: 'priority' | 'tier', order: readonly string[]): Attainment[] {
  const totals = new Map<string, Attainment>();
  for (const row of rows) {
    const key = row[by];
    const total = totals.get(key) ?? { key, met: 0, decided: 0 };
    total.decided += row.decided;
    total.met += row.decided - row.breached;
    totals.set(key, total);
  }
  // The policy's order first; tiers no longer in the policy (renamed since) after them.
  const known = order.map((key) => totals.get(key) ?? { key, met: 0, decided: 0 });
  const others = [...totals.values()].filter((a) => !order.includes(a.key));
  return [...known, ...others];
}

/** The last `count` local days ending now: today ends now, earlier days at their local midnight. */
function dayEnds(now: number, timeZone: string, count: number): Array<{ label: string; at: number }> {
  const today = localParts(now, timeZone);
  const label = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' });
  const days: Array<{ label: string; at: number }> = [];
  for (let back = count - 1; back >= 0; back--) {
    const date = addDays(today, -back);
    const at = back === 0 ? now : localToInstant(addDays(date, 1), 0, timeZone) - 1;
    days.push({ label: label.format(Date.UTC(date.year, date.month - 1, date.day)), at });
  }
  return days;
}
