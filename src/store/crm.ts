import { sql } from 'kysely';
import type { Db, Dialect } from './database.js';
import type { CrmContactTable } from './tables.js';

/** What the CRM said about requesters (a cache with an expiry), the lookups waiting, and webhook receipts. */

export interface CrmFacts {
  email: string;
  found: boolean;
  contactId: string | null;
  contactName: string | null;
  companyId: string | null;
  companyName: string | null;
  domain: string | null;
  tierValue: string | null;
  tier: string | null;
  ownerId: string | null;
  lifecycleStage: string | null;
  openDeals: number | null;
  fetchedAt: number;
  expiresAt: number;
}

const toFacts = (row: CrmContactTable): CrmFacts => ({
  email: row.email,
  found: row.found === 1,
  contactId: row.contact_id,
  contactName: row.contact_name,
  companyId: row.company_id,
  companyName: row.company_name,
  domain: row.domain,
  tierValue: row.tier_value,
  tier: row.tier,
  ownerId: row.owner_id,
  lifecycleStage: row.lifecycle_stage,
  openDeals: row.open_deals,
  fetchedAt: row.fetched_at,
  expiresAt: row.expires_at,
});

/** Cached facts for these addresses, fresh or not (callers look at expiresAt). */
export async function cachedFacts(db: Db, emails: readonly string[]): Promise<Map<string, CrmFacts>> {
  if (emails.length === 0) return new Map();
  const rows = await db.selectFrom('crm_contacts').selectAll().where('email', 'in', emails.map((e) => e.toLowerCase())).execute();
  return new Map(rows.map((r) => [r.email, toFacts(r)]));
}

export async function saveFacts(db: Db, facts: readonly CrmFacts[]): Promise<void> {
  for (const f of facts) {
    const row = {
      email: f.email.toLowerCase(),
      found: f.found ? 1 : 0,
      contact_id: f.contactId,
      contact_name: f.contactName,
      company_id: f.companyId,
      company_name: f.companyName,
      domain: f.domain,
      tier_value: f.tierValue,
      tier: f.tier,
      owner_id: f.ownerId,
      lifecycle_stage: f.lifecycleStage,
      open_deals: f.openDeals,
      previous_tickets: null,
      fetched_at: f.fetchedAt,
      expires_at: f.expiresAt,
    };
    const { email: _email, ...update } = row;
    await db.insertInto('crm_contacts').values(row).onConflict((oc) => oc.column('email').doUpdateSet(update)).execute();
  }
}

/** Marks cached facts stale (a webhook said they changed). */
export async function expireFacts(db: Db, where: { contactIds?: readonly string[]; companyIds?: readonly string[] }): Promise<string[]> {
  const contactIds = where.contactIds ?? [];
  const companyIds = where.companyIds ?? [];
  if (contactIds.length === 0 && companyIds.length === 0) return [];
  const rows = await db
    .selectFrom('crm_contacts')
    .select('email')
    .where((eb) => eb.or([...(contactIds.length ? [eb('contact_id', 'in', contactIds)] : []), ...(companyIds.length ? [eb('company_id', 'in', companyIds)] : [])]))
    .execute();
  const emails = rows.map((r) => r.email);
  if (emails.length > 0) await db.updateTable('crm_contacts').set({ expires_at: 0 }).where('email', 'in', emails).execute();
  return emails;
}

/** Queues lookups; an address already queued keeps its place and its backoff. */
export async function queueLookups(db: Db, emails: readonly string[], now: number): Promise<void> {
  const unique = [...new Set(emails.map((e) => e.toLowerCase()))];
  if (unique.length === 0) return;
  await db
    .insertInto('enrichment_jobs')
    .values(unique.map((email) => ({ email, next_attempt_at: now, lease_until: null, lease_owner: null, last_error: null, created_at: now })))
    .onConflict((oc) => oc.column('email').doNothing())
    .execute();
}

/** Queues lookups due at once, moving addresses already queued to the front (what they were waiting on changed). */
export async function lookUpNow(db: Db, emails: readonly string[], now: number): Promise<void> {
  await queueLookups(db, emails, now);
  if (emails.length > 0) await db.updateTable('enrichment_jobs').set({ next_attempt_at: now }).where('email', 'in', [...emails]).execute();
}

export async function claimLookups(db: Db, dialect: Dialect, options: { now: number; limit: number; leaseMs: number; owner: string }): Promise<Array<{ email: string; attempts: number }>> {
  const due = db
    .selectFrom('enrichment_jobs')
    .select('email')
    .where('next_attempt_at', '<=', options.now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', options.now)]))
    .orderBy('next_attempt_at')
    .limit(options.limit)
    .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked());
  const rows = await db
    .updateTable('enrichment_jobs')
    .set({ lease_until: options.now + options.leaseMs, lease_owner: options.owner })
    .where('email', 'in', due)
    .returning(['email', 'attempts'])
    .execute();
  return rows;
}

export async function dueLookups(db: Db, now: number): Promise<{ count: number; oldest: number | undefined; next: number | undefined }> {
  const row = await db
    .selectFrom('enrichment_jobs')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .executeTakeFirstOrThrow();
  // A job someone holds is due again when its lease runs out, not before (or an idle worker would spin).
  const next = await db.selectFrom('enrichment_jobs').select(sql<number>`min(case when lease_until > next_attempt_at then lease_until else next_attempt_at end)`.as('at')).executeTakeFirst();
  return { count: Number(row.n), oldest: row.oldest == null ? undefined : Number(row.oldest), next: next?.at == null ? undefined : Number(next.at) };
}

export async function finishLookups(db: Db, emails: readonly string[]): Promise<void> {
  if (emails.length > 0) await db.deleteFrom('enrichment_jobs').where('email', 'in', emails).execute();
}

export async function retryLookups(db: Db, jobs: ReadonlyArray<{ email: string; at: number }>, error: string): Promise<void> {
  for (const job of jobs) {
    await db
      .updateTable('enrichment_jobs')
      .set({ next_attempt_at: job.at, last_error: error.slice(0, 500), lease_until: null, lease_owner: null, attempts: sql`attempts + 1` })
      .where('email', '=', job.email)
      .execute();
  }
}

/** Open tickets whose requester has one of these addresses. */
export async function openTicketsOfEmails(db: Db, emails: readonly string[]): Promise<Array<{ id: number; email: string }>> {
  if (emails.length === 0) return [];
  const rows = await db
    .selectFrom('tickets')
    .innerJoin('people', 'people.id', 'tickets.requester_id')
    .select(['tickets.id as id', 'people.email as email'])
    .where(sql<string>`lower(people.email)`, 'in', emails.map((e) => e.toLowerCase()))
    .where('tickets.is_open', '=', 1)
    .execute();
  return rows.map((r) => ({ id: r.id, email: (r.email ?? '').toLowerCase() }));
}

/** Records a webhook signature; false when it was seen already (a replay). Forgets ones older than `keepMs`. */
export async function rememberReceipt(db: Db, signature: string, now: number, keepMs: number): Promise<boolean> {
  await db.deleteFrom('webhook_receipts').where('received_at', '<', now - keepMs).execute();
  const row = await db.insertInto('webhook_receipts').values({ signature, received_at: now }).onConflict((oc) => oc.column('signature').doNothing()).returning('signature').executeTakeFirst();
  return row !== undefined;
}

export async function readCrmState(db: Db, key: string): Promise<string | undefined> {
  return (await db.selectFrom('crm_state').select('value').where('key', '=', key).executeTakeFirst())?.value;
}

export async function writeCrmState(db: Db, key: string, value: string): Promise<void> {
  await db.insertInto('crm_state').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
}
