import { afterEach, describe, expect, it } from 'vitest';
import { signV3 } from '../../../src/domain/hubspot-signature.js';
import { contactByEmail } from '../../../src/store/people.js';
import { adele, alex, megan } from '../../support/activities.js';
import { HUBSPOT_SECRET, startHarness, type Harness } from '../../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const db = () => h.service.database.db;
const contoso = { id: '9001', name: 'Contoso Pharmaceuticals', domain: 'contoso-pharma.example', support_tier: 'Platinum', hubspot_owner_id: '4242', hs_num_open_deals: '3' };

/** Opens a ticket for `email` the way intake does: a contact as requester, created through the one write path. */
async function ticketFor(email: string, subject = `Help for ${email}`) {
  const person = await contactByEmail(db(), { email, name: email.split('@')[0]! }, Date.now());
  const result = await h.service.tickets.create({ actor: { person, role: 'requester' }, surface: 'email' }, { type: 'incident', subject, description: 'x', priority: 'P2', teamId: null, source: 'email', postTo: [] });
  if (!result.ok) throw new Error(result.reason);
  h.service.crm!.worker.wake();
  return result.value;
}
const ticket = (id: number) => db().selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const timeline = (id: number) => db().selectFrom('timeline_entries').selectAll().where('ticket_id', '=', id).orderBy('id').execute();

describe('HubSpot enrichment', () => {
  it('finds the company and tier in the background, and the tier recomputes the SLA', async () => {
    h = await startHarness({ hubspot: true });
    h.hubspot.addCustomer({ email: 'dana@contoso-pharma.example', firstname: 'Dana', lastname: 'Ruiz' }, contoso);
    const created = await ticketFor('dana@contoso-pharma.example');
    expect(created).toMatchObject({ tier: 'standard', crmStatus: 'pending' });
    await expect.poll(async () => (await ticket(created.id)).crm_status).toBe('ok');
    const enriched = await ticket(created.id);
    expect(enriched).toMatchObject({ tier: 'vip', tier_source: 'crm' });
    // VIP P2 answers within 1 h (24×7) instead of standard's 8 h: the due time moved in.
    expect(enriched.first_response_due_at!).toBeLessThan((created.slaDueAt ?? Infinity));
    const tierEntry = (await timeline(created.id)).find((e) => e.kind === 'tier')!;
    expect(tierEntry.body).toBe('Tier standard → vip (HubSpot: Contoso Pharmaceuticals, support_tier = Platinum); SLA due times recomputed');
    expect([h.hubspot.count('contacts'), h.hubspot.count('associations'), h.hubspot.count('companies')]).toEqual([1, 1, 1]);
    // The change is logged under the ticket it changed.
    expect(h.logs.lines.find((l) => l.msg === 'ticket changed' && l.event === 'tier')).toMatchObject({ correlationId: `ticket:${created.id}`, ticket: created.reference });

    // The requester's next ticket is enriched from the cache: no call to HubSpot.
    const again = await ticketFor('dana@contoso-pharma.example', 'Second problem');
    expect(again).toMatchObject({ tier: 'vip', crmStatus: 'ok', tierSource: 'crm' });
    expect(h.hubspot.count()).toBe(3);
  });

  it('batches a burst of 1,000 new requesters into ten lookups of 100, with no 429s', async () => {
    h = await startHarness({ hubspot: true });
    for (let i = 0; i < 1000; i += 3) h.hubspot.addCustomer({ email: `c${i}@fabrikam.example` }, i % 2 ? { id: '201', name: 'Fabrikam Gold', support_tier: 'gold' } : { id: '202', name: 'Fabrikam', support_tier: 'standard' });
    const ids: number[] = [];
    for (let i = 0; i < 1000; i++) ids.push((await ticketFor(`c${i}@fabrikam.example`)).id);
    await expect.poll(async () => Number((await db().selectFrom('tickets').select((eb) => eb.fn.countAll().as('n')).where('crm_status', '=', 'pending').executeTakeFirstOrThrow()).n), { timeout: 20_000 }).toBe(0);
    expect(h.hubspot.throttled).toBe(0);
    expect(h.hubspot.count('contacts')).toBeLessThanOrEqual(12);
    expect(h.hubspot.calls.filter((c) => c.path.endsWith('/contacts/batch/read')).every((c) => c.inputs <= 100)).toBe(true);
    expect(h.hubspot.count()).toBeLessThanOrEqual(36);
    // 207 partial results: the addresses HubSpot does not know are cached as unknown and left on the default tier.
    expect(await ticket(ids[1]!)).toMatchObject({ crm_status: 'none', tier: 'standard' });
    expect(await ticket(ids[3]!)).toMatchObject({ crm_status: 'ok', tier: 'premium' });
    expect((await db().selectFrom('crm_contacts').select('found').where('email', '=', 'c1@fabrikam.example').executeTakeFirstOrThrow()).found).toBe(0);
  });

  it('stays inside the 10-second limit it is given, even when HubSpot would allow more', async () => {
    h = await startHarness({ hubspot: true, env: { HUBSPOT_LIMIT_PER_10S: '4' }, service: { crm: { batchWindowMs: 0 } } });
    for (let i = 0; i < 3; i++) {
      await ticketFor(`slow${i}@fabrikam.example`);
      await expect.poll(async () => h.hubspot.count('contacts')).toBe(i + 1);
    }
    // Three single-address lookups need 3 calls each (contacts; no company found → no more): the 4th
    // call in 10 s waits rather than being sent.
    const times = h.hubspot.calls.map((c) => c.at);
    expect(times.filter((t) => t < times[0]! + 10_000).length).toBeLessThanOrEqual(4);
    expect(h.hubspot.throttled).toBe(0);
  });

  it('retries after a 429 no sooner than HubSpot asks, and after 5xx', async () => {
    h = await startHarness({ hubspot: true });
    h.hubspot.addCustomer({ email: 'erin@contoso-pharma.example' }, contoso);
    h.hubspot.faults.push({ match: (_m, p) => p.endsWith('/contacts/batch/read'), status: 429, times: 1 });
    h.hubspot.faults.push({ match: (_m, p) => p.endsWith('/companies/batch/read'), status: 502, times: 1 });
    const created = await ticketFor('erin@contoso-pharma.example');
    await expect.poll(async () => (await ticket(created.id)).tier, { timeout: 5_000 }).toBe('vip');
    const reads = h.hubspot.calls.filter((c) => c.path.endsWith('/contacts/batch/read'));
    expect(reads.map((c) => c.status)).toEqual([429, 200]);
    expect(reads[1]!.at - reads[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(h.hubspot.calls.filter((c) => c.path.endsWith('/companies/batch/read')).map((c) => c.status).slice(0, 2)).toEqual([502, 200]);
  });

  it('never lets HubSpot being down stop a ticket: "CRM unavailable" until a retry works', async () => {
    h = await startHarness({ hubspot: true, env: { AGENT_IDS: megan.aadObjectId } });
    h.hubspot.addCustomer({ email: 'fay@contoso-pharma.example' }, contoso);
    h.hubspot.down = true;
    const created = await ticketFor('fay@contoso-pharma.example');
    await expect.poll(async () => (await ticket(created.id)).crm_status).toBe('unavailable');
    const shown = await h.say(megan, `show ${created.reference}`);
    expect(JSON.stringify(shown.activity)).toContain('CRM unavailable');
    h.hubspot.down = false;
    await expect.poll(async () => (await ticket(created.id)).tier, { timeout: 5_000 }).toBe('vip');
    const after = await h.say(megan, `show ${created.reference}`);
    const card = JSON.stringify(after.activity);
    expect(card).toContain('★ VIP');
    expect(card).toContain('Contoso Pharmaceuticals · tier vip · owner 4242 · 3 open deals');
  });

  it('lets an agent set the tier by hand, recorded with who and why, and the CRM does not override it', async () => {
    h = await startHarness({ hubspot: true, env: { AGENT_IDS: megan.aadObjectId } });
    const created = await ticketFor('gus@nowhere.example');
    await expect.poll(async () => (await ticket(created.id)).crm_status).toBe('none');
    const reply = await h.say(megan, `tier ${created.reference} premium signed the premium contract yesterday`);
    expect(JSON.stringify(reply.activity)).toContain('is now premium');
    expect(await ticket(created.id)).toMatchObject({ tier: 'premium', tier_source: 'agent' });
    const entry = (await timeline(created.id)).find((e) => e.kind === 'tier')!;
    expect(entry.body).toBe('Tier standard → premium by Megan Bowen: signed the premium contract yesterday');
    expect(JSON.stringify((await h.say(megan, `tier ${created.reference} gold`)).activity)).toMatch(/there is no tier/i);
    expect(JSON.stringify((await h.say(alex, `tier ${created.reference} vip`)).activity)).toMatch(/only support agents|you can only/i);
  });

  it('answers whois for agents from the cache or HubSpot', async () => {
    h = await startHarness({ hubspot: true, env: { AGENT_IDS: megan.aadObjectId } });
    h.hubspot.addCustomer({ email: 'hana@contoso-pharma.example', firstname: 'Hana', lastname: 'Sato' }, contoso);
    const card = JSON.stringify((await h.say(megan, 'whois Hana@Contoso-Pharma.example')).activity);
    expect(card).toContain('Hana Sato');
    expect(card).toContain('Contoso Pharmaceuticals · contoso-pharma.example');
    expect(card).toContain('vip (CRM: Platinum)');
    const calls = h.hubspot.count();
    expect(JSON.stringify((await h.say(megan, 'whois hana@contoso-pharma.example')).activity)).toContain('From the cache');
    expect(h.hubspot.count()).toBe(calls);
    expect(JSON.stringify((await h.say(alex, 'whois hana@contoso-pharma.example')).activity)).toContain('Only support agents');
  });
});

describe('HubSpot webhooks', () => {
  const url = () => `${h.service.url}/api/webhooks/hubspot`;
  async function post(body: string, options: { secret?: string; timestamp?: number; signature?: string } = {}) {
    const timestamp = String(options.timestamp ?? Date.now());
    const signature = options.signature ?? signV3(options.secret ?? HUBSPOT_SECRET, { method: 'POST', url: url(), body, timestamp });
    const response = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp }, body });
    return response.status;
  }

  it('verifies signature v3, refuses bad, old and replayed requests, and re-tiers open tickets of a changed company', async () => {
    h = await startHarness({ hubspot: true });
    h.hubspot.addCustomer({ email: 'ivy@contoso-pharma.example' }, { ...contoso, support_tier: 'standard' });
    const created = await ticketFor('ivy@contoso-pharma.example');
    await expect.poll(async () => (await ticket(created.id)).crm_status).toBe('ok');
    expect((await ticket(created.id)).tier).toBe('standard');

    h.hubspot.companies.get(contoso.id)!.support_tier = 'gold';
    const body = JSON.stringify([{ eventId: 1, subscriptionId: 7, portalId: 62515, occurredAt: Date.now(), subscriptionType: 'company.propertyChange', attemptNumber: 0, objectId: Number(contoso.id), propertyName: 'support_tier', propertyValue: 'gold', changeSource: 'CRM_UI' }]);
    expect(await post(body, { secret: 'wrong-secret' })).toBe(401);
    expect(await post(body, { timestamp: Date.now() - 6 * 60_000 })).toBe(401);
    expect(await post(body.replace('gold', 'vip'), { signature: signV3(HUBSPOT_SECRET, { method: 'POST', url: url(), body, timestamp: String(Date.now()) }) })).toBe(401);
    expect((await ticket(created.id)).tier).toBe('standard');

    const timestamp = Date.now();
    expect(await post(body, { timestamp })).toBe(204);
    await expect.poll(async () => (await ticket(created.id)).tier).toBe('premium');
    expect(await post(body, { timestamp })).toBe(401); // the same request again: a replay
    expect(await post('not json', {})).toBe(400);
  });
});

describe('mirroring tickets into HubSpot', () => {
  it('creates a HubSpot ticket for each new ticket, with its contact and company, and keeps its status in step', async () => {
    h = await startHarness({ hubspot: true, env: { HUBSPOT_TICKET_SYNC: 'true', AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId } });
    const dana = h.hubspot.addCustomer({ email: 'jo@contoso-pharma.example' }, contoso);
    const created = await ticketFor('jo@contoso-pharma.example', 'Mirror me');
    await expect.poll(async () => (await ticket(created.id)).crm_ticket_id).not.toBeNull();
    const mirrored = h.hubspot.tickets.get((await ticket(created.id)).crm_ticket_id!)!;
    expect(mirrored.properties).toMatchObject({ subject: `${created.reference}: Mirror me`, hs_pipeline_stage: '1' });
    expect(JSON.stringify(mirrored.associations)).toContain(dana.id);
    await h.say(megan, `resolve ${created.reference}`);
    h.service.crm!.worker.wake();
    await expect.poll(() => mirrored.properties.hs_pipeline_stage).toBe('4');
  });

  it('links the HubSpot ticket as a change like any other: a new version, on the timeline and in the audit log', async () => {
    h = await startHarness({ hubspot: true, env: { HUBSPOT_TICKET_SYNC: 'true' } });
    h.hubspot.addCustomer({ email: 'kim@contoso-pharma.example' }, contoso);
    // Facts cached first: the ticket starts enriched, so the mirror's link is the only change after its creation.
    await h.service.crm!.enrichment.whois('kim@contoso-pharma.example');
    const created = await ticketFor('kim@contoso-pharma.example', 'Link me');
    expect(created.crmStatus).toBe('ok');
    await expect.poll(async () => (await ticket(created.id)).crm_ticket_id).not.toBeNull();
    const linked = await ticket(created.id);
    expect(linked.version).toBe(created.version + 1);
    const entry = (await timeline(created.id)).find((e) => e.kind === 'crm-ticket')!;
    expect(entry).toMatchObject({ visibility: 'internal', author_id: null, body: `Mirrored to HubSpot as ticket ${linked.crm_ticket_id}` });
    const audit = await db().selectFrom('audit_log').selectAll().where('ticket_id', '=', created.id).where('action', '=', 'ticket.crm-ticket').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_id: null, surface: 'system' });
    expect(JSON.parse(audit[0]!.details!)).toEqual({ crmTicketId: linked.crm_ticket_id });
    // The link is ours: the round that sees it does not send HubSpot back what it already has.
    const mirroredUpTo = async () => Number((await db().selectFrom('crm_state').select('value').where('key', '=', 'ticket-mirror').executeTakeFirst())?.value ?? 0);
    await expect.poll(async () => (h.service.crm!.worker.wake(), mirroredUpTo())).toBeGreaterThanOrEqual(linked.updated_at);
    expect(h.hubspot.calls.filter((c) => c.path.startsWith('/crm/v3/objects/tickets')).map((c) => c.method)).toEqual(['POST']);
  });
});
