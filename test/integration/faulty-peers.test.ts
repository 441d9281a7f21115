import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNotifyConfig } from '../../src/notify-config.js';
import { FlakyPeer } from '../fakes/flaky.js';
import { composeEml } from '../fakes/mail-message.js';
import { FakePagerDuty } from '../fakes/pagerduty.js';
import { FakeSlack } from '../fakes/slack.js';
import { FakeWebhookReceiver } from '../fakes/webhook-receiver.js';
import { adele, channelMessage, CHANNEL_ID, megan, personalMessage } from '../support/activities.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * A day of work while Teams, Graph and HubSpot, and the places ticket events go to (two webhook
 * receivers, PagerDuty and Slack), each answer 30% of calls with a 429 (Retry-After: 1), a 503 or no
 * answer at all: everything still arrives, once, and nothing waits in a queue or is dead-lettered at
 * the end. The fakes fail a call before acting on it, so a lost answer never means "done" here and
 * at-least-once delivery must still come out exactly once.
 */
describe('a day of work with faulty peers', () => {
  let h: Harness;
  const customers = Array.from({ length: 8 }, (_, i) => ({ email: `customer${i}@northwind.example`, subject: `Day problem ${i}` }));
  const ROUTING_KEY = 'R0DAY17PAGERDUTYKEY0123456789abc';
  const SLACK_CHANNEL = 'C0VIPDESK1';
  const secrets = { automation: `whsec_${randomBytes(32).toString('base64')}`, archive: `whsec_${randomBytes(32).toString('base64')}` };
  const automation = new FakeWebhookReceiver([secrets.automation]);
  const archive = new FakeWebhookReceiver([secrets.archive]);
  const pagerDuty = new FakePagerDuty(ROUTING_KEY);
  const slack = new FakeSlack(undefined, [SLACK_CHANNEL]);

  /** Every event to both receivers; every new ticket pages; VIP tickets are followed in Slack. */
  const rulesFile = () => `
integrations:
  automation: { type: webhook, url: '${automation.url('/desk')}', secretEnv: AUTOMATION_SECRETS, allowLoopback: true }
  archive: { type: webhook, url: '${archive.url('/events')}', secretEnv: ARCHIVE_SECRETS, allowLoopback: true }
  on-call: { type: pagerduty, routingKeyEnv: ON_CALL_KEY, eventsUrl: '${pagerDuty.eventsUrl}' }
  vip-slack: { type: slack, channel: ${SLACK_CHANNEL} }
rules:
  - name: every event to automation and the archive
    events: ['*']
    notify: [automation, archive]
  - name: page on-call for every new ticket
    events: [ticket.created]
    notify: [on-call]
  - name: VIP tickets in Slack
    events: [ticket.updated, ticket.assigned, ticket.status_changed]
    when: { tier: [vip] }
    notify: [vip-slack]
`;

  beforeAll(async () => {
    await Promise.all([automation.start(), archive.start(), pagerDuty.start(), slack.start()]);
    const notify = parseNotifyConfig(rulesFile(), 'notify.yaml', { AUTOMATION_SECRETS: secrets.automation, ARCHIVE_SECRETS: secrets.archive, ON_CALL_KEY: ROUTING_KEY, SLACK_BOT_TOKEN: slack.token });
    if (!notify.ok) throw new Error(notify.problems.join('\n'));
    h = await startHarness({
      mail: true,
      hubspot: true,
      env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId, SLACK_BOT_TOKEN: slack.token, SLACK_SIGNING_SECRET: 'day-signing-secret', SLACK_API_URL: slack.apiUrl },
      service: {
        notify: notify.config,
        // Short backoff so the day ends in seconds; an attempt gets 2 s, so a busy machine answering
        // slowly is not taken for a hang (a receiver that acted and then timed out would be sent the
        // event again, which the once-each checks below would count).
        events: { pollIntervalMs: 50, attemptTimeoutMs: 2_000, backoff: { baseMs: 50, capMs: 400, jitter: 0 } },
        // Long enough that a busy CI machine answering slowly is not taken for a hang: a send that
        // times out after Graph accepted it is sent again (at-least-once), which this test would
        // count as mail sent twice.
        graph: { timeoutMs: 1_500, attempts: 3 },
        hubspot: { timeoutMs: 500 },
        // Teams sends get the same margin: the events going out to four more peers share this
        // process, and a card the connector took but answered late would be sent again.
        deliveryTimeoutMs: 1_500,
        outbox: { maxAttempts: 40, pollIntervalMs: 50 },
        mailSender: { maxAttempts: 40 },
        mailSync: { pollIntervalMs: 200 },
      },
    });
    await h.install(megan);
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
    await h.say(megan, 'help');
    for (const [i, c] of customers.entries()) if (i % 2 === 0) h.hubspot.addCustomer({ email: c.email }, { id: '77', name: 'Northwind', support_tier: 'platinum' });
    h.connector.flaky = new FlakyPeer(0.3, 7);
    h.graph.flaky = new FlakyPeer(0.3, 11);
    h.hubspot.flaky = new FlakyPeer(0.3, 13);
    automation.flaky = new FlakyPeer(0.3, 17);
    archive.flaky = new FlakyPeer(0.3, 19);
    pagerDuty.flaky = new FlakyPeer(0.3, 23);
    slack.flaky = new FlakyPeer(0.3, 29);
  }, 20_000);
  afterAll(async () => {
    await h?.stop();
    await Promise.all([automation.stop(), archive.stop(), pagerDuty.stop(), slack.stop()]);
  });

  const db = () => h.service.database.db;
  const tickets = () => db().selectFrom('tickets').selectAll().orderBy('id').execute();
  const textOf = (call: { activity: unknown }) => JSON.stringify(call.activity);
  async function say(text: string) {
    const message = personalMessage(h, text, { from: megan });
    expect((await h.post(message)).status).toBe(200);
    return (await h.connector.waitFor((c) => c.activityId === message.id))[0]!;
  }

  it('completes: every ticket, reply, card, enrichment and ticket event arrives once, Retry-After is honoured, nothing is stuck', { timeout: 90_000 }, async () => {
    for (const c of customers) await h.graph.deliver(composeEml({ from: c.email, subject: c.subject, text: 'It broke this morning.' }));
    h.service.mail!.sync.wake();
    await expect.poll(async () => (await tickets()).length, { timeout: 20_000 }).toBe(customers.length);

    // The agent takes every ticket but the last as it arrives (while the first events are still on
    // their way out) and answers every one from Teams.
    const all = await tickets();
    for (const t of all.slice(0, -1)) expect(textOf(await say(`take ${t.reference}`))).toContain(`You took ${t.reference}`);
    for (const t of all) {
      const activity = personalMessage(h, `reply ${t.reference} We are looking at it.`, { from: megan });
      expect((await h.post(activity)).status).toBe(200);
    }
    // Every acknowledgement and every reply reaches Graph.
    await expect.poll(() => h.graph.sent.length, { timeout: 30_000 }).toBe(customers.length * 2);
    // Half the customers answer the agent's reply.
    const replies = h.graph.sent.filter((s) => s.via === 'reply');
    for (const sent of replies.slice(0, 4)) {
      await h.graph.deliver(composeEml({ from: sent.to[0]!, subject: `RE: ${sent.subject}`, text: 'Thanks, that helped.', inReplyTo: sent.internetMessageId }));
    }
    h.service.mail!.sync.wake();
    await expect.poll(async () => (await db().selectFrom('timeline_entries').select('id').where('kind', '=', 'reply').where('body', '=', 'Thanks, that helped.').execute()).length, { timeout: 20_000 }).toBe(4);

    // Enrichment finished for everyone: the HubSpot customers are VIP, the others are known not to be there.
    await expect.poll(async () => (await tickets()).map((t) => t.crm_status).sort().join(','), { timeout: 20_000 }).toBe('none,none,none,none,ok,ok,ok,ok');
    expect((await tickets()).filter((t) => t.tier === 'vip')).toHaveLength(4);

    // Every ticket's card reached the triage channel, once.
    for (const t of await tickets()) {
      await expect.poll(() => h.connector.delivered('send').filter((c) => c.conversationId === CHANNEL_ID && JSON.stringify(c.activity).includes(`${t.reference} ·`)).length, { timeout: 20_000 }).toBe(1);
    }
    // Mail went out once each: one acknowledgement and one reply per ticket.
    const perTicket = new Map<string, number>();
    for (const s of h.graph.sent) perTicket.set(`${s.via}:${s.subject}`, (perTicket.get(`${s.via}:${s.subject}`) ?? 0) + 1);
    expect([...perTicket.values()].every((n) => n === 1)).toBe(true);
    expect(perTicket.size).toBe(customers.length * 2);

    // Nothing waiting, nothing dead-lettered.
    await expect.poll(async () => (await db().selectFrom('outbox').select('id').where('status', '!=', 'sent').execute()).length, { timeout: 20_000 }).toBe(0);
    expect(await db().selectFrom('mail_outbox').select('id').where('status', '!=', 'sent').execute()).toEqual([]);
    expect(await db().selectFrom('enrichment_jobs').select('email').execute()).toEqual([]);

    // The faults really happened, on every peer...
    for (const peer of [h.connector.flaky!, h.graph.flaky!, h.hubspot.flaky!]) expect(peer.injected.length).toBeGreaterThan(0);
    // ...and a 429 was never retried sooner than its Retry-After (1 s).
    for (const throttle of h.graph.flaky!.injected.filter((f) => f.fault.kind === 429)) {
      const [method, path] = throttle.key.split(' ');
      const later = h.graph.requests.filter((r) => r.method === method && r.path === path && r.at > throttle.at).map((r) => r.at);
      if (later.length > 0) expect(Math.min(...later) - throttle.at, `Graph ${throttle.key}`).toBeGreaterThanOrEqual(990);
    }
    for (const throttle of h.connector.flaky!.injected.filter((f) => f.fault.kind === 429)) {
      const [operation, conversationId] = throttle.key.split(':');
      const next = h.connector.calls.find((c) => c.operation === operation && c.conversationId === conversationId && c.at > throttle.at);
      if (next) expect(next.at - throttle.at, `Teams ${throttle.key}`).toBeGreaterThanOrEqual(990);
    }

    // The end of the day: the agent resolves two VIP tickets and one other; the last ticket nobody took.
    const day = await tickets();
    const untaken = day.at(-1)!;
    const resolved = [...day.filter((t) => t.tier === 'vip' && t.id !== untaken.id).slice(0, 2), day.find((t) => t.tier !== 'vip' && t.id !== untaken.id)!];
    for (const t of resolved) await say(`resolve ${t.reference} fixed on the server side`);
    const final = await tickets();
    expect(final.filter((t) => t.status === 'resolved').map((t) => t.id)).toEqual(resolved.map((t) => t.id).sort((a, b) => a - b));

    // Every ticket event left the desk: nothing waits, nothing was dead-lettered.
    const deliveries = () => db().selectFrom('event_deliveries').select(['target', 'event_id', 'event_type', 'ticket_id', 'matched', 'status']).orderBy('id').execute();
    await expect.poll(async () => (await deliveries()).filter((d) => d.status !== 'sent').length, { timeout: 40_000, interval: 200 }).toBe(0);
    const rows = await deliveries();
    const byRule = (target: string) => rows.filter((d) => d.target === target && d.matched === 1);

    // Each receiver got every event once: as many deliveries as distinct webhook-ids, so nobody has to
    // de-duplicate (the fakes fail before acting, so at-least-once has no reason to send one twice).
    for (const [name, receiver] of [['automation', automation], ['archive', archive]] as const) {
      const ids = receiver.verified.map((r) => r.id);
      expect(new Set(ids).size, `${name}: distinct webhook-ids`).toBe(ids.length);
      expect([...ids].sort(), `${name}: every routed event`).toEqual(byRule(name).map((d) => d.event_id).sort());
      expect(receiver.rejected, `${name}: signatures refused`).toBe(0);
      const types = receiver.verified.map((r) => r.payload as { type: string; ticket: { status: string } });
      expect(types.filter((e) => e.type === 'ticket.created')).toHaveLength(customers.length);
      expect(types.filter((e) => e.type === 'ticket.assigned')).toHaveLength(customers.length - 1);
      expect(types.filter((e) => e.type === 'ticket.status_changed' && e.ticket.status === 'resolved')).toHaveLength(resolved.length);
    }

    // PagerDuty: one alert per ticket, triggered once; acknowledged when taken, resolved when resolved.
    for (const t of final) {
      const isResolved = resolved.some((r) => r.id === t.id);
      const taken = t.id !== untaken.id;
      expect(pagerDuty.alert(`teams-service-desk-ticket-${t.id}`, ROUTING_KEY), t.reference).toMatchObject({
        status: isResolved ? 'resolved' : taken ? 'acknowledged' : 'triggered',
        incidents: 1,
        triggers: 1,
        acknowledges: taken ? 1 : 0,
        resolves: isResolved ? 1 : 0,
        dropped: 0,
      });
    }
    expect(pagerDuty.requests.filter((r) => r.status === 202)).toHaveLength(customers.length + (customers.length - 1) + resolved.length);

    // Slack: one message per VIP ticket, showing the ticket as it ended the day, and one threaded
    // reply for each later event a rule sent there; nothing about the other tickets.
    const vip = final.filter((t) => t.tier === 'vip');
    expect(vip).toHaveLength(4);
    for (const t of final) {
      const posts = slack.posts(SLACK_CHANNEL).filter((m) => m.text.includes(t.reference));
      if (t.tier !== 'vip') {
        expect(posts, t.reference).toEqual([]);
        continue;
      }
      expect(posts, t.reference).toHaveLength(1);
      const fields = JSON.stringify(posts[0]!.blocks);
      expect(fields).toContain(`*Status*\\n${t.status === 'resolved' ? 'Resolved' : 'Open'}`);
      expect(fields).toContain(`*Assignee*\\n${t.id === untaken.id ? 'Unassigned' : megan.name}`);
      expect(slack.repliesTo(posts[0]!.ts), t.reference).toHaveLength(byRule('vip-slack').filter((d) => d.ticket_id === t.id).length - 1);
    }

    // The faults really happened on every new peer, and no 429 was retried sooner than its Retry-After.
    for (const peer of [automation.flaky!, archive.flaky!, pagerDuty.flaky!, slack.flaky!]) expect(peer.injected.length).toBeGreaterThan(0);
    // `faultedToo`: the fake records a request after deciding its fault (PagerDuty, Slack), so the
    // first record of that key from then on is the refused request itself, not its retry.
    const retriedAfter = (name: string, faults: FlakyPeer, arrivals: Array<{ key: string | undefined; at: number }>, faultedToo: boolean) => {
      for (const throttle of faults.injected.filter((f) => f.fault.kind === 429)) {
        const later = arrivals.filter((a) => a.key === throttle.key && (faultedToo ? a.at >= throttle.at : a.at > throttle.at)).map((a) => a.at);
        if (faultedToo) later.shift();
        if (later.length > 0) expect(Math.min(...later) - throttle.at, `${name} ${throttle.key}`).toBeGreaterThanOrEqual(990);
      }
    };
    for (const [name, receiver] of [['automation', automation], ['archive', archive]] as const) retriedAfter(name, receiver.flaky!, receiver.arrivals.map((a) => ({ key: a.id, at: a.at })), false);
    retriedAfter('PagerDuty', pagerDuty.flaky!, pagerDuty.requests.map((r) => ({ key: `${String(r.body?.dedup_key)} ${String(r.body?.event_action)}`, at: r.at })), true);
    retriedAfter('Slack', slack.flaky!, slack.calls.map((c) => ({ key: c.key, at: c.at })), true);
  });
});
