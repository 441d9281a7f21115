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
 * against the shape Microsoft Learn documents ("charts in adaptive cards"). So is the dynamic
 * typeahead of `Input.ChoiceSet` (`choices.data`, an Adaptive Cards 1.6 `Data.Query` that Teams reads
 * in cards of any version): the schema checks the card without it, `dataQueryErrors` checks it.
 */
function withoutTeamsExtensions(card: unknown): unknown {
  return JSON.parse(JSON.stringify(card, (key, value) => {
    if (key === 'msteams' || key === 'choices.data') return undefined;
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
  const errors = [...chartErrors(card), ...dataQueryErrors(card)];
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

/**
 * `choices.data` against the documented Data.Query: the 1.6 schema's definition (type, dataset
 * required, count, skip, nothing else) plus Teams' `associatedInputs` (Microsoft Learn, "Typeahead
 * search in Adaptive Cards", https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search).
 */
export function dataQueryErrors(card: unknown): string[] {
  const errors: string[] = [];
  JSON.stringify(card, (_key, value) => {
    if (value && typeof value === 'object' && 'choices.data' in value) {
      if (value.type !== 'Input.ChoiceSet') errors.push(`choices.data on ${value.type}: only Input.ChoiceSet has it`);
      const query = value['choices.data'];
      if (!query || typeof query !== 'object') errors.push('choices.data: must be an object');
      else {
        if (query.type !== 'Data.Query') errors.push('choices.data.type: must be Data.Query');
        if (typeof query.dataset !== 'string' || !query.dataset) errors.push('choices.data.dataset: a non-empty string is required');
        for (const key of ['count', 'skip']) if (key in query && typeof query[key] !== 'number') errors.push(`choices.data.${key}: must be a number`);
        if ('associatedInputs' in query && !['auto', 'none'].includes(query.associatedInputs)) errors.push('choices.data.associatedInputs: auto or none');
        for (const key of Object.keys(query)) if (!DATA_QUERY_KEYS.has(key)) errors.push(`choices.data.${key}: not a Data.Query property`);
      }
    }
    return value;
  });
  return errors;
}

const DATA_QUERY_KEYS = new Set(['type', 'dataset', 'count', 'skip', 'associatedInputs']);

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
