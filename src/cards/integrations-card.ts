import type { NotifyRule } from '../domain/notify-rules.js';
import { adaptiveCard, literalText, type AdaptiveCard } from './adaptive-card.js';
import { field } from './fields.js';

/** What `integrations` shows admins: the rules in force (built-in first) and each integration's queue. */
export interface IntegrationsCardData {
  rules: readonly NotifyRule[];
  integrations: ReadonlyArray<{ name: string; kind: string; where: string; pending: number; dead: number; sent: number; lastError: string | undefined }>;
  source: string;
}

const KIND_LABELS: Record<string, string> = { webhook: 'Webhook', pagerduty: 'PagerDuty', slack: 'Slack' };

export function integrationsCard(data: IntegrationsCardData): AdaptiveCard {
  const integrations = data.integrations.map((i) => {
    const health = i.lastError ? { text: '✗ failing', weight: 'Bolder' as const, color: 'Attention' as const } : { text: '✓ ok', weight: 'Bolder' as const, color: 'Good' as const };
    const queue = `${i.sent} sent · ${i.pending} waiting · ${i.dead} dead-lettered`;
    return field(`${i.name} (${KIND_LABELS[i.kind] ?? i.kind})`, health, { text: ` · ${i.where} · ${queue}${i.lastError ? ` · last error: ${i.lastError}` : ''}`, isSubtle: true });
  });
  const rules = data.rules.map((r) => {
    const when = Object.entries(r.when)
      .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join('/') : String(v)}`)
      .join(', ');
    const line = `${r.events.join(', ')}${when ? ` when ${when}` : ''} → ${r.notify.join(', ')}${r.description ? ` (${r.description})` : ''}`;
    return literalText({ text: `${r.origin === 'built-in' ? 'Built-in' : 'Rule'} “${r.name}”: ${line}`, size: 'Small' });
  });
  return adaptiveCard('Integrations and notification rules', [
    literalText({ text: 'Integrations', weight: 'Bolder', size: 'Medium' }),
    ...(integrations.length > 0 ? integrations : [literalText({ text: 'None configured: ticket events stay in Teams. Set NOTIFY_CONFIG to add webhooks, PagerDuty or Slack.', isSubtle: true })]),
    literalText({ text: `Rules (${data.source === '(none)' ? 'built-in only' : `built-in, then ${data.source}`})`, weight: 'Bolder', size: 'Medium' }),
    ...rules,
    literalText({ text: 'Send a test event with “integrations test <name>”.', isSubtle: true, size: 'Small' }),
  ], []);
}
