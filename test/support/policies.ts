import type { SlaPolicy } from '../../src/domain/sla.js';
import { parseSlaPolicy } from '../../src/sla-config.js';

/** An SLA policy for a test, from YAML; a mistake in it fails the test file at once. */
export function policyFrom(yaml: string): SlaPolicy {
  const parsed = parseSlaPolicy(yaml, 'test policy');
  if (!parsed.ok) throw new Error(`test policy invalid: ${parsed.problems.join('; ')}`);
  return parsed.policy;
}

/** Office hours in UTC, Monday to Friday 09:00–17:00, with the given tier targets and extras. */
export function officePolicy(targets: string, extra = ''): SlaPolicy {
  return standardTierPolicy('office: { timeZone: UTC, hours: { mon-fri: "09:00-17:00" } }', targets, extra);
}

/** Around the clock in UTC, so SLA events can fall at any hour, with the given tier targets and extras. */
export function aroundTheClockPolicy(targets: string, extra = ''): SlaPolicy {
  return standardTierPolicy('always: { timeZone: UTC, hours: 24x7 }', targets, extra);
}

/** One calendar (the default) and one tier, "standard", with `targets` as its lines (P1: {...}). */
function standardTierPolicy(calendar: string, targets: string, extra: string): SlaPolicy {
  const name = calendar.slice(0, calendar.indexOf(':'));
  return policyFrom(`calendars:
  ${calendar}
defaultCalendar: ${name}
defaultTier: standard
tiers:
  standard:
${targets
  .trim()
  .split('\n')
  .map((line) => `    ${line.trim()}`)
  .join('\n')}
${extra}`);
}
