import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlakyPeer } from '../fakes/flaky.js';
import { composeEml } from '../fakes/mail-message.js';
import { adele, channelMessage, CHANNEL_ID, megan, personalMessage } from '../support/activities.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * A day of work while Teams, Graph and HubSpot each answer 30% of calls with a 429 (Retry-After: 1),
 * a 503 or no answer at all: everything still arrives, once, and nothing waits in a queue or is
 * dead-lettered at the end.
 */
describe('a day of work with faulty peers', () => {
  let h: Harness;
  const customers = Array.from({ length: 8 }, (_, i) => ({ email: `customer${i}@northwind.example`, subject: `Day problem ${i}` }));

  beforeAll(async () => {
    h = await startHarness({
      mail: true,
      hubspot: true,
      env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId },
      service: {
        // Long enough that a busy CI machine answering slowly is not taken for a hang: a send that
        // times out after Graph accepted it is sent again (at-least-once), which this test would
        // count as mail sent twice.
        graph: { timeoutMs: 1_500, attempts: 3 },
        hubspot: { timeoutMs: 500 },
        deliveryTimeoutMs: 500,
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
  }, 20_000);
  afterAll(() => h.stop());

  const db = () => h.service.database.db;
  const tickets = () => db().selectFrom('tickets').selectAll().orderBy('id').execute();

  it('completes: every ticket, reply, card and enrichment arrives once, Retry-After is honoured, nothing is stuck', { timeout: 60_000 }, async () => {
    for (const c of customers) await h.graph.deliver(composeEml({ from: c.email, subject: c.subject, text: 'It broke this morning.' }));
    h.service.mail!.sync.wake();
    await expect.poll(async () => (await tickets()).length, { timeout: 20_000 }).toBe(customers.length);

    // The agent answers every ticket from Teams.
    for (const t of await tickets()) {
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
  });
});
