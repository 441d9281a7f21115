import { HubSpotClient } from '../src/integrations/hubspot/client.js';
import { contactByEmail } from '../src/store/people.js';
import { FakeHubSpot } from '../test/fakes/hubspot.js';
import { startHarness } from '../test/support/harness.js';

/**
 * 1,000 tickets from 1,000 distinct requesters arriving within a second, enriched from the fake
 * HubSpot (which enforces 100 requests per 10 s): the HubSpot calls made, the time until every ticket
 * is enriched, and the 429s seen. The baseline runs in the same run against a second fake HubSpot
 * holding the same customers under the same limit: the same client (same limiter settings) looking
 * each requester up on its own, one contact, one association and one company call each, for as long
 * as the desk needed to enrich them all; its calls and the requesters it got through are counted.
 */
export async function benchCrm(options: { requesters: number; baselineMaxMs: number }) {
  const customers = Array.from({ length: options.requesters }, (_, i) => ({
    contact: { email: `r${i}@customer${i % 50}.example`, firstname: `R${i}` },
    company: { id: String(7000 + (i % 50)), name: `Customer ${i % 50}`, support_tier: i % 5 === 0 ? 'platinum' : 'standard' },
  }));
  const h = await startHarness({ auth: false, hubspot: true, service: { crm: { batchWindowMs: 150 } } });
  let desk;
  try {
    const db = h.service.database.db;
    for (const c of customers) h.hubspot.addCustomer(c.contact, c.company);
    const people = [];
    for (let i = 0; i < options.requesters; i++) people.push(await contactByEmail(db, { email: customers[i]!.contact.email, name: `R${i}` }, Date.now()));
    const t0 = Date.now();
    for (const person of people) {
      const created = await h.service.tickets.create({ actor: { person, role: 'requester' }, surface: 'email' }, { type: 'incident', subject: 'VPN drops', description: '', priority: 'P3', teamId: null, source: 'email', postTo: [] });
      if (!created.ok) throw new Error(created.reason);
    }
    const arrivedMs = Date.now() - t0;
    for (;;) {
      const pending = await db.selectFrom('tickets').select((eb) => eb.fn.countAll().as('n')).where('crm_status', 'in', ['pending', 'unavailable']).executeTakeFirstOrThrow();
      if (Number(pending.n) === 0) break;
      if (Date.now() - t0 > 300_000) throw new Error('enrichment did not finish within 5 minutes');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const enrichedMs = Date.now() - t0;
    const vip = await db.selectFrom('tickets').select((eb) => eb.fn.countAll().as('n')).where('tier', '=', 'vip').executeTakeFirstOrThrow();
    desk = { arrivedMs, enrichedMs, calls: h.hubspot.count(), throttled: h.hubspot.throttled, vip: Number(vip.n), limits: h.config.hubspot! };
  } finally {
    await h.stop();
  }

  const hubspot = await new FakeHubSpot().start();
  try {
    for (const c of customers) hubspot.addCustomer(c.contact, c.company);
    const client = new HubSpotClient({ accessToken: hubspot.accessToken, baseUrl: hubspot.baseUrl, limitPer10s: desk.limits.limitPer10s, dailyLimit: desk.limits.dailyLimit });
    const budgetMs = Math.min(Math.max(desk.enrichedMs, 1_000), options.baselineMaxMs);
    const t0 = Date.now();
    const deadline = t0 + budgetMs;
    let enriched = 0;
    let vip = 0;
    // The properties src/services/crm.ts reads.
    const contactProperties = ['firstname', 'lastname', 'email', 'hubspot_owner_id', 'lifecyclestage'];
    const companyProperties = ['name', 'domain', desk.limits.tierProperty, 'hubspot_owner_id', 'lifecyclestage', 'hs_num_open_deals'];
    for (const c of customers) {
      if (Date.now() >= deadline) break;
      const contact = (await client.contactsByEmail([c.contact.email], contactProperties)).get(c.contact.email);
      if (!contact || Date.now() >= deadline) break;
      const companyId = (await client.companiesOfContacts([contact.id])).get(contact.id)?.[0];
      if (!companyId || Date.now() >= deadline) break;
      const company = (await client.companies([companyId], companyProperties)).get(companyId);
      if (Date.now() > deadline) break;
      enriched += 1;
      if (company?.properties[desk.limits.tierProperty] === 'platinum') vip += 1;
    }
    const baseline = { budgetMs, elapsedMs: Date.now() - t0, enriched, vip, calls: hubspot.count(), throttled: hubspot.throttled };
    return { requesters: options.requesters, desk, baseline };
  } finally {
    await hubspot.stop();
  }
}

export function reportCrm(r: Awaited<ReturnType<typeof benchCrm>>): string {
  const { desk, baseline } = r;
  const deskPer = desk.calls / r.requesters;
  const basePer = baseline.enriched > 0 ? baseline.calls / baseline.enriched : Number.NaN;
  return [
    `${r.requesters.toLocaleString('en')} tickets from distinct requesters created in ${(desk.arrivedMs / 1000).toFixed(2)} s; all enriched ${(desk.enrichedMs / 1000).toFixed(2)} s after the first (HubSpot limit 100 per 10 s, ours ${desk.limits.limitPer10s}; ${desk.vip} became VIP)`,
    `desk: ${desk.calls} HubSpot calls = ${deskPer.toFixed(3)} per requester; 429s: ${desk.throttled}`,
    `baseline (one lookup per requester, same client and limit, measured for ${(baseline.budgetMs / 1000).toFixed(1)} s): ${baseline.enriched.toLocaleString('en')} of ${r.requesters.toLocaleString('en')} requesters enriched with ${baseline.calls} calls = ${basePer.toFixed(2)} per requester; 429s: ${baseline.throttled}`,
    `calls per requester, desk / baseline: ${((deskPer / basePer) * 100).toFixed(1)}% (goal ≤ 2%); requesters enriched in the same time: ${r.requesters.toLocaleString('en')} against ${baseline.enriched.toLocaleString('en')} (${(r.requesters / Math.max(baseline.enriched, 1)).toFixed(0)}×)`,
  ].join('\n');
}
