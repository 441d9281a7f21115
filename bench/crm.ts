import { contactByEmail } from '../src/store/people.js';
import { startHarness } from '../test/support/harness.js';

/**
 * 1,000 tickets from 1,000 distinct requesters arriving within a second, enriched from the fake
 * HubSpot (which enforces 100 requests per 10 s): the HubSpot calls made against the 3,000 that one
 * contact, one association and one company call per requester would take, the time until every ticket
 * is enriched, and the 429s seen.
 */
export async function benchCrm(options: { requesters: number }) {
  const h = await startHarness({ auth: false, hubspot: true, service: { crm: { batchWindowMs: 150 } } });
  try {
    const db = h.service.database.db;
    for (let i = 0; i < options.requesters; i++) {
      h.hubspot.addCustomer({ email: `r${i}@customer${i % 50}.example`, firstname: `R${i}` }, { id: String(7000 + (i % 50)), name: `Customer ${i % 50}`, support_tier: i % 5 === 0 ? 'platinum' : 'standard' });
    }
    const people = [];
    for (let i = 0; i < options.requesters; i++) people.push(await contactByEmail(db, { email: `r${i}@customer${i % 50}.example`, name: `R${i}` }, Date.now()));
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
    return { requesters: options.requesters, arrivedMs, enrichedMs, calls: h.hubspot.count(), throttled: h.hubspot.throttled, vip: Number(vip.n) };
  } finally {
    await h.stop();
  }
}

export function reportCrm(r: Awaited<ReturnType<typeof benchCrm>>): string {
  const naive = r.requesters * 3;
  return [
    `${r.requesters.toLocaleString('en')} tickets from distinct requesters created in ${(r.arrivedMs / 1000).toFixed(2)} s; all enriched ${(r.enrichedMs / 1000).toFixed(2)} s after the first (HubSpot limit 100 per 10 s; ${r.vip} became VIP)`,
    `HubSpot calls: ${r.calls} against ${naive.toLocaleString('en')} one call per lookup = ${((r.calls / naive) * 100).toFixed(1)}% (goal ≤ 2%); 429s: ${r.throttled}`,
  ].join('\n');
}
