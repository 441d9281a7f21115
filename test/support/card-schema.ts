import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import * as AC from 'adaptivecards';

/**
 * Checks a card the way two independent readers would: the official Adaptive Cards 1.5 JSON schema
 * (draft-06, strict; Teams' own `msteams` property set aside, as the schema does not know it) and the
 * `adaptivecards` object model with Teams' host config, which reports unknown elements, bad values and
 * limits (such as the number of actions) while parsing.
 */
const schema = JSON.parse(readFileSync(new URL('../fixtures/adaptive-cards/adaptive-card.1.5.schema.json', import.meta.url), 'utf8'));
delete schema.id;
const ajv = new Ajv.default({ strict: false, validateSchema: false, allErrors: false });
ajv.addMetaSchema(JSON.parse(readFileSync(new URL('../../node_modules/ajv/dist/refs/json-schema-draft-06.json', import.meta.url), 'utf8')));
const validate = ajv.compile(schema);

/**
 * Teams' chart elements (`Chart.*`) are outside the 1.5 schema too: the schema checks what a client
 * without charts renders (each chart's fallback), and `chartErrors` checks the charts themselves
 * against the shape Microsoft Learn documents ("charts in adaptive cards").
 */
function withoutTeamsExtensions(card: unknown): unknown {
  return JSON.parse(JSON.stringify(card, (key, value) => {
    if (key === 'msteams') return undefined;
    if (isChart(value)) return value.fallback;
    return value;
  }));
}

const CHART_TYPES = new Set(['Chart.Donut', 'Chart.Pie', 'Chart.Gauge', 'Chart.VerticalBar', 'Chart.VerticalBar.Grouped', 'Chart.HorizontalBar', 'Chart.HorizontalBar.Stacked', 'Chart.Line']);
const SERIES_CHARTS = new Set(['Chart.VerticalBar.Grouped', 'Chart.HorizontalBar.Stacked', 'Chart.Line']);

function isChart(value: unknown): value is { type: string; fallback?: unknown; data?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && (value as { type: string }).type.startsWith('Chart.');
}

export function schemaErrors(card: unknown): string[] {
  const errors = chartErrors(card);
  if (validate(withoutTeamsExtensions(card))) return errors;
  return [...errors, ...(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)];
}

/** Every chart element found in the card, for tests that look at what the charts plot. */
export function chartsIn(card: unknown): Array<{ type: string; title?: string; data: Array<{ legend: string; values: Array<{ x: string; y: number }> }>; fallback: unknown }> {
  const found: unknown[] = [];
  JSON.stringify(card, (_key, value) => {
    if (isChart(value)) found.push(value);
    return value;
  });
  return found as ReturnType<typeof chartsIn>;
}

function chartErrors(card: unknown): string[] {
  const errors: string[] = [];
  for (const chart of chartsIn(card)) {
    if (!CHART_TYPES.has(chart.type)) errors.push(`${chart.type}: not a Teams chart element`);
    if (typeof chart.fallback !== 'object' || chart.fallback === null) errors.push(`${chart.type}: no fallback element`);
    if (!Array.isArray(chart.data)) {
      errors.push(`${chart.type}: data must be an array`);
      continue;
    }
    if (SERIES_CHARTS.has(chart.type)) {
      for (const series of chart.data) {
        if (typeof series.legend !== 'string' || !Array.isArray(series.values)) errors.push(`${chart.type}: each data entry needs a legend and values`);
        else if (!series.values.every((v) => typeof v.x === 'string' && typeof v.y === 'number' && Number.isFinite(v.y))) errors.push(`${chart.type}: values must be { x: string, y: number }`);
      }
    }
  }
  return errors;
}

/** Teams' own host config: it allows 6 actions where the library's default allows 5. */
const teamsHostConfig = new AC.HostConfig(JSON.parse(readFileSync(new URL('../fixtures/adaptive-cards/host-config.microsoft-teams-light.json', import.meta.url), 'utf8')));

export function objectModelErrors(card: unknown): string[] {
  const parsed = new AC.AdaptiveCard();
  parsed.hostConfig = teamsHostConfig;
  const context = new AC.SerializationContext();
  parsed.parse(card, context);
  const errors: string[] = [];
  for (let i = 0; i < context.eventCount; i++) {
    const message = context.getEventAt(i).message;
    // A Teams chart is unknown to the object model, which renders its fallback (checked by chartErrors).
    if (/^Unknown element type "Chart\.[A-Za-z.]+"\. Fallback will be used if present\.$/.test(message)) continue;
    errors.push(`parse: ${message}`);
  }
  for (const event of parsed.validateProperties().validationEvents) errors.push(`validate: ${event.message}`);
  return errors;
}
