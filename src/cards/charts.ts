import type { CardElement } from './adaptive-card.js';

/**
 * Teams' chart elements (Chart.VerticalBar.Grouped, Chart.Line: a Teams extension outside the
 * Adaptive Cards 1.5 schema) and the tables they fall back to. Every chart carries its `fallback`, so a
 * client without charts (Outlook, the Playground's renderer, a screen reader) shows the same figures
 * as a table instead of nothing.
 */

export interface Series {
  legend: string;
  values: Array<{ x: string; y: number }>;
}

interface ChartOptions {
  title: string;
  xAxisTitle?: string;
  yAxisTitle?: string;
  series: Series[];
  /** What a client without chart support shows instead: the same figures, as a table. */
  fallback: CardElement;
}

export function groupedBarChart(options: ChartOptions & { showBarValues?: boolean }): CardElement {
  return {
    type: 'Chart.VerticalBar.Grouped',
    title: options.title,
    ...axes(options),
    showBarValues: options.showBarValues ?? true,
    data: options.series,
    fallback: options.fallback,
  };
}

export function lineChart(options: ChartOptions): CardElement {
  return { type: 'Chart.Line', title: options.title, ...axes(options), data: options.series, fallback: options.fallback };
}

const axes = (options: ChartOptions) => ({
  ...(options.xAxisTitle ? { xAxisTitle: options.xAxisTitle } : {}),
  ...(options.yAxisTitle ? { yAxisTitle: options.yAxisTitle } : {}),
});

/** A plain table, header row first; cells are literal text (TextBlocks with no Markdown in them). */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, widths?: readonly number[]): CardElement {
  const cell = (text: string, header: boolean): CardElement => ({
    type: 'TableCell',
    items: [{ type: 'TextBlock', text: escapeMarkdown(text), wrap: true, ...(header ? { weight: 'Bolder' } : {}) }],
  });
  return {
    type: 'Table',
    firstRowAsHeader: true,
    showGridLines: false,
    columns: headers.map((_, i) => ({ type: 'TableColumnDefinition', width: widths?.[i] ?? 1 })),
    rows: [headers, ...rows].map((row, i) => ({ type: 'TableRow', cells: row.map((text) => cell(text, i === 0)) })),
  };
}

/** Our own labels only ever hold letters, digits and a few signs; keep Markdown from reading any of them. */
function escapeMarkdown(text: string): string {
  return text.replace(/([\\*_~`[\]#>])/g, '\\$1');
}
