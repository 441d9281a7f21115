import { describe, expect, it } from 'vitest';
import { BUILT_IN_RULES, route, type EventFacts } from '../../src/domain/notify-rules.js';
import { EXAMPLE_NOTIFY_CONFIG, parseNotifyConfig } from '../../src/notify-config.js';

const env = { AUTOMATION_WEBHOOK_SECRETS: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', PAGERDUTY_ROUTING_KEY: 'R0ABCDEF1234567890abcdef12345678', SLACK_BOT_TOKEN: 'xoxb-1' };
const facts = (overrides: Partial<EventFacts> = {}): EventFacts => ({ type: 'ticket.created', priority: 'P3', tier: 'standard', ticketType: 'incident', teamId: null, teamName: null, inBusinessHours: true, ...overrides });

describe('the notification rules file', () => {
  it('reads the README example', () => {
    const parsed = parseNotifyConfig(EXAMPLE_NOTIFY_CONFIG, 'example.yaml', env);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.config.integrations.map((i) => [i.name, i.type])).toEqual([
      ['automation', 'webhook'],
      ['on-call', 'pagerduty'],
      ['support-slack', 'slack'],
    ]);
    expect(parsed.config.integrations[0]).toMatchObject({ secrets: [env.AUTOMATION_WEBHOOK_SECRETS], retryForMs: 24 * 3_600_000, allowLoopback: false });
  });

  it('names the line of each problem, and what to do about it', () => {
    const parsed = parseNotifyConfig(
      `integrations:
  hook:
    type: webhook
    url: https://example.com/x
    secretEnv: MISSING_SECRET
  pd:
    type: pagerduty
rules:
  - name: one
    events: [ticket.created, ticket.exploded]
    notify: [hook, teams:lobby, nowhere]
  - name: one
    events: ['*']
    when: { priority: [P9] }
    notify: [pd]
`,
      'notify.yaml',
      {},
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const problems = parsed.problems.join('\n');
    expect(problems).toMatch(/notify\.yaml:10:\d+: rules\.0\.events\.1: "ticket\.exploded" is not an event/);
    expect(problems).toMatch(/notify\.yaml:14:\d+: rules\.1\.when\.priority\.0/);
    // The schema's problems come first; with them fixed, the rest is reported (secrets, targets, names).
    const fixed = parseNotifyConfig(
      `integrations:
  hook:
    type: webhook
    url: https://example.com/x
    secretEnv: MISSING_SECRET
  pd:
    type: pagerduty
rules:
  - name: one
    events: [ticket.created]
    notify: [hook, teams:lobby, nowhere]
  - name: one
    events: ['*']
    notify: [pd]
`,
      'notify.yaml',
      {},
    );
    expect(fixed.ok).toBe(false);
    if (fixed.ok) return;
    const rest = fixed.problems.join('\n');
    expect(rest).toMatch(/notify\.yaml:5:\d+: integrations\.hook\.secretEnv: MISSING_SECRET is not set/);
    expect(rest).toMatch(/integrations\.pd\.routingKeyEnv: PAGERDUTY_ROUTING_KEY is not set/);
    expect(rest).toMatch(/notify\.yaml:11:\d+: rules\.0\.notify\.1: "teams:lobby" is not a Teams channel role; use teams:triage/);
    expect(rest).toMatch(/rules\.0\.notify\.2: "nowhere" is not an integration/);
    expect(rest).toMatch(/notify\.yaml:12:\d+: rules\.1\.name: "one" is used by an earlier rule too/);
  });

  it('refuses more than two webhook secrets, a URL with credentials, and a Slack channel given by name', () => {
    const parsed = parseNotifyConfig(
      `integrations:
  hook: { type: webhook, url: "https://user:pw@example.com/x", secretEnv: THREE }
  chat: { type: slack, channel: "#support" }
rules:
  - { name: r, events: ['*'], notify: [hook, chat] }
`,
      'notify.yaml',
      { THREE: 'whsec_a,whsec_b,whsec_c', SLACK_BOT_TOKEN: 'xoxb-1' },
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const problems = parsed.problems.join('\n');
    expect(problems).toMatch(/integrations\.chat\.channel: is not a Slack channel id/);
    const hook = parseNotifyConfig(
      `integrations:
  hook: { type: webhook, url: "https://user:pw@example.com/x", secretEnv: THREE }
rules:
  - { name: r, events: ['*'], notify: [hook] }
`,
      'notify.yaml',
      { THREE: 'whsec_a,whsec_b,whsec_c' },
    );
    expect(hook.ok).toBe(false);
    if (hook.ok) return;
    expect(hook.problems.join('\n')).toMatch(/integrations\.hook\.url: must not carry credentials/);
    expect(hook.problems.join('\n')).toMatch(/THREE holds 3 secrets; keep at most two/);
  });

  it('a YAML syntax error names its line', () => {
    const parsed = parseNotifyConfig('rules:\n  - name: [unclosed\n', 'broken.yaml', {});
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]).toMatch(/^broken\.yaml:\d+:\d+: /);
  });
});

describe('routing', () => {
  const rules = (yaml: string) => {
    const parsed = parseNotifyConfig(yaml, 't.yaml', env);
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    return parsed.config.rules;
  };
  const file = rules(`integrations:
  automation: { type: webhook, url: https://example.com/x, secretEnv: AUTOMATION_WEBHOOK_SECRETS }
  on-call: { type: pagerduty }
rules:
  - { name: all, events: ['*'], notify: [automation] }
  - { name: p1, events: [ticket.created, sla.breach], when: { priority: [P1] }, notify: [on-call, automation] }
  - { name: vip after hours, events: [sla.warning], when: { tier: [vip], businessHours: false }, notify: [on-call] }
  - { name: team, events: [ticket.created], when: { team: [Payroll Support] }, notify: [teams:critical] }
`);

  it('sends an event to each target once, whichever rules name it', () => {
    expect(route(file, facts({ priority: 'P1' }))).toEqual([
      { target: 'automation', rules: ['all', 'p1'] },
      { target: 'on-call', rules: ['p1'] },
    ]);
    expect(route(file, facts({ priority: 'P3' }))).toEqual([{ target: 'automation', rules: ['all'] }]);
  });

  it('checks tier, business hours and team (by id or registered name)', () => {
    expect(route(file, facts({ type: 'sla.warning', tier: 'vip', inBusinessHours: true })).map((r) => r.target)).toEqual(['automation']);
    expect(route(file, facts({ type: 'sla.warning', tier: 'vip', inBusinessHours: false })).map((r) => r.target)).toEqual(['automation', 'on-call']);
    expect(route(file, facts({ teamId: '19:abc', teamName: 'payroll support' })).map((r) => r.target)).toContain('teams:critical');
    expect(route(file, facts({ teamId: '19:abc', teamName: 'Facilities' })).map((r) => r.target)).not.toContain('teams:critical');
  });

  it('the built-in Teams routing can be written as rules in the file', () => {
    const yaml = `rules:\n${BUILT_IN_RULES.map((r) => `  - { name: ${JSON.stringify(r.name)}, events: [${r.events.join(', ')}], when: ${JSON.stringify(r.when)}, notify: [${r.notify.join(', ')}] }`).join('\n')}\n`;
    const written = rules(yaml);
    expect(written.map(({ origin: _o, description: _d, ...r }) => r)).toEqual(BUILT_IN_RULES.map(({ origin: _o, description: _d, ...r }) => r));
    expect(route(written, facts({ priority: 'P1' })).map((r) => r.target)).toEqual(['teams:triage', 'teams:critical']);
    expect(route(written, facts({ type: 'sla.breach' })).map((r) => r.target)).toEqual(['teams:sla-breaches']);
  });
});
