import { afterEach, describe, expect, it } from 'vitest';
import { composeEml } from '../fakes/mail-message.js';
import { adele, channelMessage, megan } from '../support/activities.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

/** Prometheus text → { 'name{label="v",…}': value }, checking every line is well-formed. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

async function scrape(token?: string): Promise<Map<string, number>> {
  const response = await fetch(`${h.service.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}

describe('metrics', () => {
  it('are Prometheus text that moves when work happens, behind METRICS_TOKEN', async () => {
    h = await startHarness({ mail: true, hubspot: true, env: { METRICS_TOKEN: 'scrape-me', AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId } });
    expect((await fetch(`${h.service.url}/metrics`)).status).toBe(401);
    const before = await scrape('scrape-me');
    expect(before.get('servicedesk_up')).toBe(1);
    expect(before.get('servicedesk_open_tickets{status="new",priority="P3"}') ?? 0).toBe(0);

    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
    await h.graph.deliver(composeEml({ from: 'dana@fabrikam.example', subject: 'Metrics please', text: 'x' }));
    await h.graph.deliver(composeEml({ from: 'robot@fabrikam.example', subject: 'Out of office', text: 'x', headers: { 'Auto-Submitted': 'auto-replied' } }));
    await h.syncMail();
    await h.say(megan, 'help');
    await expect.poll(async () => (await scrape('scrape-me')).get('servicedesk_outbox_sends_total{result="ok"}') ?? 0).toBeGreaterThanOrEqual(1);

    const after = await scrape('scrape-me');
    expect(after.get('servicedesk_open_tickets{status="new",priority="P3"}')).toBe(1);
    expect(after.get('servicedesk_mail_ingested_total{disposition="ticket",reason="new"}')).toBe(1);
    expect(after.get('servicedesk_mail_ingested_total{disposition="filtered",reason="auto-reply"}')).toBe(1);
    expect(after.get('servicedesk_turns_total{kind="message",outcome="ok"}')).toBeGreaterThanOrEqual(2);
    expect(after.get('servicedesk_turn_duration_seconds_count{kind="message"}')).toBeGreaterThanOrEqual(2);
    expect(after.get('servicedesk_outbox_depth{outbox="teams",status="dead"}')).toBe(0);
    expect(after.get('servicedesk_mail_sync_lag_seconds')).toBeLessThan(60);
    expect(after.has('servicedesk_hubspot_calls_total{result="all"}')).toBe(true);
  });
});

describe('readiness', () => {
  it('reports each integration, degrading (not failing) when a peer is down, and 503 only without the database', async () => {
    h = await startHarness({ mail: true, hubspot: true, env: { ADMIN_IDS: adele.aadObjectId, AGENT_IDS: megan.aadObjectId } });
    const ready = async () => {
      const response = await fetch(`${h.service.url}/readyz`);
      return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, { status: string; lastError?: string }> } };
    };
    const first = await ready();
    expect(first.status).toBe(200);
    expect(Object.fromEntries(Object.entries(first.body.checks).map(([k, v]) => [k, v.status]))).toEqual({ database: 'ok', bot: 'ok', mailbox: 'ok', hubspot: 'ok' });

    h.graph.fail(() => true, { status: 503 }, 1_000);
    h.hubspot.down = true;
    const report = await h.service.health.report({ fresh: true });
    expect(report.ready).toBe(true);
    expect(report.checks.mailbox).toMatchObject({ status: 'degraded', lastError: expect.stringMatching(/503/) });
    expect(report.checks.hubspot).toMatchObject({ status: 'degraded' });
    expect((await ready()).status).toBe(200);

    // Admins see the same in chat.
    const status = JSON.stringify((await h.say(adele, 'status')).activity);
    expect(status).toContain('Service Desk is ready');
    expect(status).toMatch(/Mailbox \(Graph\).*degraded/);
    expect(JSON.stringify((await h.say(megan, 'status')).activity)).toContain('Only admins');

    await h.service.database.close();
    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.body.checks.database!.status).toBe('down');
  });
});
