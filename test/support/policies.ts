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
  return policyFrom(`calendars:
  office: { timeZone: UTC, hours: { mon-fri: "09:00-17:00" } }
defaultCalendar: office
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
