import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { readLocatedFile } from './config-file.js';
import { DESK_EVENT_TYPES, type DeskEventType } from './domain/desk-events.js';
import { clockMs, parseDuration } from './domain/duration.js';
import { teamsRoleOf, TEAMS_CHANNEL_ROLES, type NotifyRule } from './domain/notify-rules.js';
import { PRIORITIES } from './domain/tickets.js';
import type { CommentDirection, StatusAction, StatusMap } from './domain/issue-trackers.js';

/**
 * The notification rules file (`NOTIFY_CONFIG`, YAML or JSON): the integrations events may go to
 * (webhooks, PagerDuty, Slack channels) and the rules that route events to them and to the desk's
 * Teams channels. Read once at start; every problem names its line. Secrets are never in the file:
 * it names the environment variables that hold them.
 */

export const EXAMPLE_NOTIFY_CONFIG = `# Teams Service Desk notification rules. Point NOTIFY_CONFIG at a copy of this file.
integrations:
  automation:
    type: webhook
    url: https://automation.example.com/hooks/service-desk
    secretEnv: AUTOMATION_WEBHOOK_SECRETS   # whsec_… ; two, comma-separated, while rotating
  on-call:
    type: pagerduty
    routingKeyEnv: PAGERDUTY_ROUTING_KEY
  support-slack:
    type: slack
    channel: C0123456789                   # the channel's id (the app must be in the channel)
rules:
  - name: page on-call for P1s
    events: [ticket.created, sla.breach, escalation.unanswered]
    when: { priority: [P1] }
    notify: [on-call]
  - name: every event to automation
    events: ['*']
    notify: [automation]
  - name: premium customers in Slack
    events: [ticket.created, sla.warning, sla.breach, escalation.raised]
    when: { tier: [premium, vip] }
    notify: [support-slack]
`;

export const DEFAULT_WEBHOOK_RETRY_MS = 24 * 3_600_000;

export type IntegrationSpec =
  | {
      type: 'webhook';
      name: string;
      url: string;
      /** whsec_… secrets; the first signs, every one is sent while rotating. */
      secrets: string[];
      allowLoopback: boolean;
      allowPrivateAddresses: boolean;
      maxPerSecond: number | undefined;
      retryForMs: number;
    }
  | { type: 'pagerduty'; name: string; routingKey: string; eventsUrl: string | undefined; retryForMs: number }
  | { type: 'slack'; name: string; channel: string; retryForMs: number };

export interface NotifyConfig {
  integrations: IntegrationSpec[];
  rules: NotifyRule[];
  /** Linked engineering issues (Linear, Jira): what each state does to the tickets, and where comments go. */
  trackers?: { statusMap: StatusMap; comments: CommentDirection };
  /** Where it was read from, for messages. */
  source: string;
}

export type NotifyConfigResult = { ok: true; config: NotifyConfig } | { ok: false; problems: string[] };

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lower-case letters, digits and dashes (e.g. on-call)');
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'name an environment variable, e.g. PAGERDUTY_ROUTING_KEY');
const duration = z.string().optional();

const webhookSpec = z
  .object({
    type: z.literal('webhook'),
    url: z.string().url('is not a URL'),
    secretEnv: envName,
    allowLoopback: z.boolean().optional(),
    allowPrivateAddresses: z.boolean().optional(),
    maxPerSecond: z.number().int().min(1).max(1000).optional(),
    retryFor: duration,
  })
  .strict();
const pagerDutySpec = z.object({ type: z.literal('pagerduty'), routingKeyEnv: envName.optional(), eventsUrl: z.string().url('is not a URL').optional(), retryFor: duration }).strict();
const slackSpec = z.object({ type: z.literal('slack'), channel: z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'is not a Slack channel id (C0123…; open the channel details in Slack to copy it)'), retryFor: duration }).strict();

const eventName = z.string().refine((e) => e === '*' || (DESK_EVENT_TYPES as readonly string[]).includes(e), (e) => ({ message: `"${e}" is not an event; use one of ${DESK_EVENT_TYPES.join(', ')} or '*'` }));
const list = z.array(z.string().min(1)).min(1);
const ruleSpec = z
  .object({
    name: z.string().min(1).max(100),
    events: z.array(eventName).min(1),
    when: z
      .object({
        priority: z.array(z.enum(PRIORITIES as unknown as [string, ...string[]])).min(1).optional(),
        tier: list.optional(),
        type: z.array(z.enum(['incident', 'request'])).min(1).optional(),
        team: list.optional(),
        businessHours: z.boolean().optional(),
      })
      .strict()
      .default({}),
    notify: list,
  })
  .strict();

/**
 * `trackers:` what an issue's new state does to every ticket linking it, keyed by the state's name
 * ("In Review") or its category (todo, started, done, canceled), and which way comments go:
 *   statusMap: { done: [pending, notify-assignee, reply: "A fix has shipped"], canceled: [notify-assignee] }
 *   comments: to-ticket        # or both, or none
 */
const statusAction = z.union([
  z.enum(['pending', 'notify-assignee'], { errorMap: () => ({ message: 'use pending, notify-assignee or reply: "text"' }) }),
  z.object({ reply: z.string().trim().min(1, 'give the reply\'s text').max(4000) }).strict(),
]);
const trackersSpec = z
  .object({
    statusMap: z.record(z.string().min(1).max(100), z.array(statusAction).min(1)).default({}),
    comments: z.enum(['to-ticket', 'both', 'none'], { errorMap: () => ({ message: 'use to-ticket, both or none' }) }).default('to-ticket'),
  })
  .strict();

const fileSchema = z
  .object({
    trackers: trackersSpec.optional(),
    integrations: z.record(z.string(), z.discriminatedUnion('type', [webhookSpec, pagerDutySpec, slackSpec], { errorMap: () => ({ message: 'type must be webhook, pagerduty or slack' }) })).default({}),
    rules: z.array(ruleSpec).default([]),
  })
  .strict();

export function loadNotifyConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): NotifyConfigResult {
  if (!path) return { ok: true, config: { integrations: [], rules: [], source: '(none)' } };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, problems: [`NOTIFY_CONFIG: cannot read ${path}: ${(error as Error).message}`] };
  }
  return parseNotifyConfig(text, path, env);
}

export function parseNotifyConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): NotifyConfigResult {
  const read = readLocatedFile(text, source, fileSchema);
  if (!read.ok) return read;
  const { where } = read;
  const problems: string[] = [];
  const integrations: IntegrationSpec[] = [];
  for (const [key, spec] of Object.entries(read.value.integrations)) {
    const problem = (field: string, message: string) => problems.push(`${where(['integrations', key, field])}: integrations.${key}.${field}: ${message}`);
    const named = name.safeParse(key);
    if (!named.success) problems.push(`${where(['integrations', key])}: integrations.${key}: ${named.error.issues[0]!.message}`);
    if (key.startsWith('teams')) problems.push(`${where(['integrations', key])}: integrations.${key}: names starting with "teams" are kept for the Teams channels (teams:triage, …)`);
    let retryForMs = DEFAULT_WEBHOOK_RETRY_MS;
    if (spec.retryFor !== undefined) {
      const d = parseDuration(spec.retryFor);
      if (!d.ok || d.duration.business) problem('retryFor', d.ok ? 'give wall-clock time (e.g. 24h), not business time' : d.error);
      else retryForMs = clockMs(d.duration);
    }
    if (spec.type === 'webhook') {
      const url = new URL(spec.url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') problem('url', 'must be an http or https URL');
      if (url.username || url.password) problem('url', 'must not carry credentials; the signature authenticates us');
      const secrets = (env[spec.secretEnv] ?? '').split(/[\s,]+/).filter(Boolean);
      if (secrets.length === 0) problem('secretEnv', `${spec.secretEnv} is not set; put the endpoint's whsec_… secret in it`);
      else if (secrets.length > 2) problem('secretEnv', `${spec.secretEnv} holds ${secrets.length} secrets; keep at most two (the new one and the old one while rotating)`);
      integrations.push({ type: 'webhook', name: key, url: spec.url, secrets, allowLoopback: spec.allowLoopback ?? false, allowPrivateAddresses: spec.allowPrivateAddresses ?? false, maxPerSecond: spec.maxPerSecond, retryForMs });
    } else if (spec.type === 'pagerduty') {
      const variable = spec.routingKeyEnv ?? 'PAGERDUTY_ROUTING_KEY';
      const routingKey = (env[variable] ?? '').trim();
      if (!routingKey) problem('routingKeyEnv', `${variable} is not set; put the integration key of the PagerDuty service's Events API v2 integration in it`);
      integrations.push({ type: 'pagerduty', name: key, routingKey, eventsUrl: spec.eventsUrl, retryForMs });
    } else {
      if (!env.SLACK_BOT_TOKEN) problem('type', 'SLACK_BOT_TOKEN is not set; put the Slack app’s bot token (xoxb-…) in it');
      integrations.push({ type: 'slack', name: key, channel: spec.channel, retryForMs });
    }
  }

  const known = new Set(integrations.map((i) => i.name));
  const rules: NotifyRule[] = [];
  read.value.rules.forEach((rule, index) => {
    if (read.value.rules.findIndex((r) => r.name === rule.name) !== index) problems.push(`${where(['rules', index, 'name'])}: rules.${index}.name: "${rule.name}" is used by an earlier rule too`);
    rule.notify.forEach((target, i) => {
      if (target.startsWith('teams:') ? teamsRoleOf(target) === undefined : !known.has(target)) {
        problems.push(
          `${where(['rules', index, 'notify', i])}: rules.${index}.notify.${i}: "${target}" is ${target.startsWith('teams:') ? `not a Teams channel role; use ${TEAMS_CHANNEL_ROLES.map((r) => `teams:${r}`).join(', ')}` : 'not an integration defined under integrations'}`,
        );
      }
    });
    rules.push({ name: rule.name, events: rule.events as (DeskEventType | '*')[], when: rule.when, notify: [...new Set(rule.notify)], origin: 'config' });
  });
  const trackers = read.value.trackers
    ? {
        comments: read.value.trackers.comments,
        statusMap: Object.fromEntries(
          Object.entries(read.value.trackers.statusMap).map(([state, actions]) => [state.trim().toLowerCase(), actions.map((a): StatusAction => (typeof a === 'string' ? { kind: a } : { kind: 'reply', text: a.reply }))]),
        ),
      }
    : undefined;
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: { integrations, rules, source, ...(trackers ? { trackers } : {}) } };
}
