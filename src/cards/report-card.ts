import { adaptiveCard, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { groupedBarChart, lineChart, table, type Series } from './charts.js';

/** How many of the decided tickets (resolved or breached) met their SLA, for one priority or tier. */
export interface AttainmentData {
  key: string;
  met: number;
  decided: number;
}

export interface ReportWindowData {
  days: number;
  byPriority: readonly AttainmentData[];
  byTier: readonly AttainmentData[];
}

/** What the SLA report shows: attainment per window (7 and 30 days) and the open-ticket trend. */
export interface ReportCardData {
  /** Whose tickets: "the team" or one agent's. */
  scope: string;
  windows: readonly ReportWindowData[];
  /** Open tickets at the end of each day, oldest first; the last point is now. */
  trend: ReadonlyArray<{ day: string; open: number }>;
}

/**
 * SLA attainment (by priority, by tier; last 7 and 30 days) and the open-ticket trend, as Teams charts
 * with tables to fall back on. Shared by `report` and the daily digest.
 */
export function reportSection(data: ReportCardData): CardElement[] {
  const body: CardElement[] = [{ type: 'TextBlock', text: `SLA met, ${data.scope}`, weight: 'Bolder', separator: true, wrap: true }];
  const anyDecided = data.windows.some((w) => w.byPriority.some((a) => a.decided > 0));
  if (!anyDecided) {
    body.push({ type: 'TextBlock', text: `No ticket was resolved or breached in the last ${longest(data)} days.`, isSubtle: true, spacing: 'None', wrap: true });
  } else {
    body.push(attainmentChart('By priority', 'Priority', data.windows, (w) => w.byPriority));
    body.push(attainmentChart('By tier', 'Tier', data.windows, (w) => w.byTier));
  }
  const trend: Series = { legend: 'Open tickets', values: data.trend.map((p) => ({ x: p.day, y: p.open })) };
  body.push(
    lineChart({
      title: `Open tickets, last ${data.trend.length} days`,
      yAxisTitle: 'Open',
      series: [trend],
      fallback: {
        type: 'Container',
        items: [
          { type: 'TextBlock', text: `Open tickets at the end of each day, last ${data.trend.length} days`, weight: 'Bolder', wrap: true },
          table(['Day', 'Open'], data.trend.map((p) => [p.day, String(p.open)]), [2, 1]),
        ],
      },
    }),
  );
  return body;
}

export function reportCard(data: ReportCardData): AdaptiveCard {
  const week = data.windows.find((w) => w.days === 7) ?? data.windows[0]!;
  const total = sum(week.byPriority);
  const summary = total.decided === 0 ? `SLA report for ${data.scope}: nothing decided in the last ${week.days} days` : `SLA report for ${data.scope}: ${percent(total)} met in the last ${week.days} days`;
  return adaptiveCard(summary, [{ type: 'TextBlock', text: `SLA report · ${data.scope}`, weight: 'Bolder', size: 'Medium', wrap: true }, ...reportSection(data)]);
}

function attainmentChart(title: string, what: string, windows: readonly ReportWindowData[], pick: (w: ReportWindowData) => readonly AttainmentData[]): CardElement {
  // Only bars with something decided behind them: a 0% bar for "no tickets" would read as "all breached".
  const keys = pick(windows[0]!).map((a) => a.key).filter((key) => windows.some((w) => (pick(w).find((a) => a.key === key)?.decided ?? 0) > 0));
  const series: Series[] = windows.map((w) => ({
    legend: `Last ${w.days} days`,
    values: keys.flatMap((key) => {
      const a = pick(w).find((x) => x.key === key);
      return a && a.decided > 0 ? [{ x: key, y: Math.round((a.met / a.decided) * 100) }] : [];
    }),
  }));
  const rows = keys.map((key) => [key, ...windows.map((w) => cellText(pick(w).find((a) => a.key === key)))]);
  return groupedBarChart({
    title: `${title} (% met)`,
    xAxisTitle: what,
    yAxisTitle: '% met',
    series,
    fallback: {
      type: 'Container',
      items: [
        { type: 'TextBlock', text: `${title}: share of tickets that met their SLA`, weight: 'Bolder', wrap: true },
        table([what, ...windows.map((w) => `Last ${w.days} days`)], rows, [1, 2, 2]),
      ],
    },
  });
}

function cellText(a: AttainmentData | undefined): string {
  if (!a || a.decided === 0) return '–';
  return `${percent(a)} (${a.met} of ${a.decided})`;
}

const percent = (a: { met: number; decided: number }) => `${Math.round((a.met / a.decided) * 100)}%`;
const sum = (list: readonly AttainmentData[]) => list.reduce((t, a) => ({ met: t.met + a.met, decided: t.decided + a.decided }), { met: 0, decided: 0 });
const longest = (data: ReportCardData) => Math.max(...data.windows.map((w) => w.days));
