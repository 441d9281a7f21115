import { adaptiveCard, literalText, type AdaptiveCard } from './adaptive-card.js';
import { field } from './fields.js';

/** Readiness as the `status` card shows it: whether the replica serves, and each dependency's state. */
export interface StatusCardData {
  ready: boolean;
  /** By dependency name (`database`, `bot`, `mailbox`, `hubspot`; others show under their own name). */
  checks: Readonly<Record<string, { status: 'ok' | 'degraded' | 'down'; lastError?: string }>>;
}

const LABELS: Record<string, string> = { database: 'Database', bot: 'Bot credentials', mailbox: 'Mailbox (Graph)', hubspot: 'HubSpot', linear: 'Linear', jira: 'Jira' };
const MARKS = { ok: '✓ ok', degraded: '! degraded', down: '✗ down' } as const;

/** `status`: each dependency, ok / degraded / down, with its last error. */
export function statusCard(report: StatusCardData): AdaptiveCard {
  const rows = Object.entries(report.checks).map(([name, check]) => {
    const color = check.status === 'ok' ? ('Good' as const) : check.status === 'degraded' ? ('Warning' as const) : ('Attention' as const);
    return field(LABELS[name] ?? name, { text: MARKS[check.status as keyof typeof MARKS] ?? check.status, weight: 'Bolder', color }, ...(check.lastError ? [{ text: ` · ${check.lastError}`, isSubtle: true }] : []));
  });
  return adaptiveCard(report.ready ? 'Service Desk is ready' : 'Service Desk is not ready', [
    literalText({ text: report.ready ? 'Service Desk is ready' : 'Service Desk is not ready: its database is down', weight: 'Bolder', size: 'Medium' }),
    ...rows,
  ], []);
}
