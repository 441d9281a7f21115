import { backoffDelay } from '../domain/backoff.js';
import { tierFromCrm, type SlaPolicy } from '../domain/sla.js';
import type { CrmStatus, Ticket } from '../domain/tickets.js';
import { BATCH_MAX, HubSpotError, type HubSpotClient } from '../integrations/hubspot/client.js';
import { correlationId, withCorrelation } from '../log-context.js';
import type { Logger } from '../logger.js';
import { cachedFacts, claimLookups, dueLookups, expireFacts, finishLookups, lookUpNow, openTicketsOfEmails, queueLookups, readCrmState, retryLookups, saveFacts, writeCrmState, type CrmFacts } from '../store/crm.js';
import type { Database, Db } from '../store/database.js';
import { findPerson } from '../store/people.js';
import { ticketsChangedSince } from '../store/tickets.js';
import type { CrmAtCreation } from './ticket-opening.js';
import type { TicketService } from './tickets.js';

/** What HubSpot says about a person and their company, as cached. */
export type { CrmFacts };

/**
 * Who a requester is in HubSpot (contact, company, tier, owner, open deals), found in the background
 * and never on a ticket's critical path. New tickets read the cache; addresses not in it (or stale)
 * are queued, and the worker looks them up in batches of up to 100: contacts by email in one call,
 * their companies through the v4 associations in one call, the companies in one call. Results are
 * cached with a TTL (misses too), then applied to the requester's open tickets: the tier (and so the
 * SLA), and the facts on their cards. A failed lookup is retried with backoff, and its tickets show
 * "CRM unavailable" until it succeeds.
 */

export interface CrmOptions {
  tierProperty: string;
  cacheTtlMs: number;
  ticketSync: boolean;
  /** Requests arriving within this window of each other go in one batch. */
  batchWindowMs: number;
  leaseMs: number;
  backoff: { baseMs: number; capMs: number; jitter: number };
}

export const DEFAULT_CRM_OPTIONS: Omit<CrmOptions, 'tierProperty' | 'cacheTtlMs' | 'ticketSync'> = {
  batchWindowMs: 150,
  leaseMs: 120_000,
  backoff: { baseMs: 5_000, capMs: 30 * 60_000, jitter: 0.2 },
};

const CONTACT_PROPERTIES = ['firstname', 'lastname', 'email', 'hubspot_owner_id', 'lifecyclestage'];

export class CrmEnrichment implements CrmAtCreation {
  private readonly owner = `crm:${process.pid}:${Math.random().toString(16).slice(2, 10)}`;
  /** Lookups made, by outcome (for metrics and tests). */
  readonly stats = { batches: 0, found: 0, missing: 0, failures: 0, cacheHits: 0 };
  /** Tickets whose last change was linking them to the HubSpot ticket just created, at that version. */
  private readonly justLinked = new Map<number, number>();

  constructor(
    private readonly deps: {
      database: Database;
      client: HubSpotClient;
      tickets: TicketService;
      policy: SlaPolicy;
      options: CrmOptions;
      logger: Logger;
      clock?: () => number;
    },
  ) {}

  private get db(): Db {
    return this.deps.database.db;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  async atCreation(tx: Db, requesterId: number, now: number): Promise<{ tier: string | undefined; crmStatus: CrmStatus }> {
    const person = await findPerson(tx, requesterId);
    const email = person?.email?.toLowerCase();
    if (!email) return { tier: undefined, crmStatus: 'none' };
    const facts = (await cachedFacts(tx, [email])).get(email);
    if (facts && facts.expiresAt > now) {
      this.stats.cacheHits++;
      return { tier: facts.tier ?? undefined, crmStatus: facts.found ? 'ok' : 'none' };
    }
    await queueLookups(tx, [email], now);
    // Stale facts still say more than none while the refresh runs.
    return { tier: facts?.tier ?? undefined, crmStatus: 'pending' };
  }

  /** One batch of queued lookups (after letting requests that arrive close together gather). Returns how many. */
  async runBatch(): Promise<number> {
    const { database, options } = this.deps;
    const due = await dueLookups(this.db, Date.now());
    if (due.count === 0) return 0;
    if (due.count < BATCH_MAX && due.oldest !== undefined) {
      const wait = due.oldest + options.batchWindowMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const jobs = await claimLookups(this.db, database.dialect, { now: Date.now(), limit: BATCH_MAX, leaseMs: options.leaseMs, owner: this.owner });
    if (jobs.length === 0) return 0;
    const emails = jobs.map((j) => j.email);
    try {
      const facts = await this.lookUp(emails);
      await saveFacts(this.db, [...facts.values()]);
      await finishLookups(this.db, emails);
      await this.applyToTickets(facts);
    } catch (error) {
      this.stats.failures++;
      const message = error instanceof Error ? error.message : String(error);
      const retryAfter = error instanceof HubSpotError ? error.details.retryAfterMs : undefined;
      await retryLookups(this.db, jobs.map((j) => ({ email: j.email, at: Date.now() + (retryAfter ?? backoffDelay(j.attempts + 1, options.backoff)) })), message);
      this.deps.logger.warn({ err: error, lookups: emails.length }, 'CRM lookup failed; tickets show "CRM unavailable" until it works');
      for (const ticket of await openTicketsOfEmails(this.db, emails)) {
        await withCorrelation(correlationId('ticket', ticket.id), () => this.deps.tickets.applyCrm(ticket.id, { tier: undefined, crmStatus: 'unavailable', because: 'HubSpot unavailable' })).catch(() => undefined);
      }
    }
    return jobs.length;
  }

  /** When the next queued lookup is due (for the worker's sleep). */
  async nextDueAt(): Promise<number | undefined> {
    return (await dueLookups(this.db, Date.now())).next;
  }

  /** The CRM card for `whois`: the cache when fresh, else a lookup now. */
  async whois(email: string): Promise<{ facts: CrmFacts; fromCache: boolean }> {
    const key = email.trim().toLowerCase();
    const cached = (await cachedFacts(this.db, [key])).get(key);
    if (cached && cached.expiresAt > this.now()) {
      this.stats.cacheHits++;
      return { facts: cached, fromCache: true };
    }
    const facts = await this.lookUp([key]);
    await saveFacts(this.db, [...facts.values()]);
    return { facts: facts.get(key)!, fromCache: false };
  }

  /** A webhook said these contacts or companies changed: forget what we knew, look again, re-tier. */
  async refresh(changed: { contactIds: string[]; companyIds: string[] }): Promise<number> {
    const emails = await expireFacts(this.db, changed);
    await lookUpNow(this.db, emails, Date.now());
    return emails.length;
  }

  /** Three calls for up to 100 addresses: contacts, their company associations, the companies. */
  private async lookUp(emails: readonly string[]): Promise<Map<string, CrmFacts>> {
    const { client, options, policy } = this.deps;
    this.stats.batches++;
    const contacts = await client.contactsByEmail(emails, CONTACT_PROPERTIES);
    const companiesOf = await client.companiesOfContacts([...contacts.values()].map((c) => c.id));
    const companyIds = [...new Set([...companiesOf.values()].flatMap((ids) => ids.slice(0, 1)))];
    const companies = await client.companies(companyIds, ['name', 'domain', options.tierProperty, 'hubspot_owner_id', 'lifecyclestage', 'hs_num_open_deals']);
    const fetchedAt = Date.now();
    const result = new Map<string, CrmFacts>();
    for (const email of emails) {
      const contact = contacts.get(email);
      const company = contact ? companies.get(companiesOf.get(contact.id)?.[0] ?? '') : undefined;
      const tierValue = company?.properties[options.tierProperty] ?? null;
      const name = contact ? [contact.properties.firstname, contact.properties.lastname].filter(Boolean).join(' ') || null : null;
      if (contact) this.stats.found++;
      else this.stats.missing++;
      result.set(email, {
        email,
        found: contact !== undefined,
        contactId: contact?.id ?? null,
        contactName: name,
        companyId: company?.id ?? null,
        companyName: company?.properties.name ?? null,
        domain: company?.properties.domain ?? null,
        tierValue,
        tier: tierFromCrm(policy, tierValue) ?? null,
        ownerId: company?.properties.hubspot_owner_id ?? contact?.properties.hubspot_owner_id ?? null,
        lifecycleStage: company?.properties.lifecyclestage ?? contact?.properties.lifecyclestage ?? null,
        openDeals: company?.properties.hs_num_open_deals != null ? Number(company.properties.hs_num_open_deals) : null,
        fetchedAt,
        expiresAt: fetchedAt + options.cacheTtlMs,
      });
    }
    return result;
  }

  private async applyToTickets(facts: Map<string, CrmFacts>): Promise<void> {
    for (const ticket of await openTicketsOfEmails(this.db, [...facts.keys()])) {
      const f = facts.get(ticket.email);
      if (!f) continue;
      const because = f.found ? `HubSpot: ${f.companyName ?? 'no company'}${f.tierValue ? `, ${this.deps.options.tierProperty} = ${f.tierValue}` : ''}` : 'not in HubSpot';
      // Logged (and its card updates queued) under the ticket it changes.
      await withCorrelation(correlationId('ticket', ticket.id), () => this.deps.tickets.applyCrm(ticket.id, { tier: f.tier ?? undefined, crmStatus: f.found ? 'ok' : 'none', because }));
    }
  }

  /** Mirrors tickets changed since the last round into HubSpot (HUBSPOT_TICKET_SYNC). Returns how many. */
  async mirrorTickets(limit = 20): Promise<number> {
    if (!this.deps.options.ticketSync) return 0;
    const mark = Number((await readCrmState(this.db, 'ticket-mirror')) ?? 0);
    const changed = await ticketsChangedSince(this.db, mark, limit);
    let last = mark;
    for (const ticket of changed) {
      const linkedAt = this.justLinked.get(ticket.id);
      this.justLinked.delete(ticket.id);
      // Unless our own link to the HubSpot ticket changed it last: HubSpot already has what it shows.
      if (linkedAt !== ticket.version) await this.mirror(ticket);
      last = Math.max(last, ticket.updatedAt);
    }
    if (last > mark) await writeCrmState(this.db, 'ticket-mirror', String(last));
    return changed.length;
  }

  private async mirror(ticket: Ticket): Promise<void> {
    const stage = { new: '1', open: '2', pending: '3', on_hold: '3', resolved: '4', closed: '4' }[ticket.status];
    const priority = { P1: 'HIGH', P2: 'HIGH', P3: 'MEDIUM', P4: 'LOW' }[ticket.priority];
    const properties = { subject: `${ticket.reference}: ${ticket.subject}`, hs_pipeline: '0', hs_pipeline_stage: stage, hs_ticket_priority: priority };
    if (ticket.crmTicketId) {
      await this.deps.client.updateTicket(ticket.crmTicketId, properties);
      return;
    }
    const requester = await findPerson(this.db, ticket.requesterId);
    const facts = requester?.email ? (await cachedFacts(this.db, [requester.email])).get(requester.email.toLowerCase()) : undefined;
    const id = await this.deps.client.createTicket({ ...properties, content: ticket.description.slice(0, 5000) }, { ...(facts?.contactId ? { contactId: facts.contactId } : {}), ...(facts?.companyId ? { companyId: facts.companyId } : {}) });
    const linked = await this.deps.tickets.linkCrmTicket(ticket.id, id);
    if (linked.ok) this.justLinked.set(ticket.id, linked.value.version);
  }
}
