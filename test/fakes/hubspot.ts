import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FlakyPeer } from './flaky.js';

/**
 * HubSpot's CRM API on loopback (the client's HTTP layer is node-fetch, so plain http works): batch
 * read of contacts by email (207 with errors for unknown addresses), v4 contact→company associations
 * in batch, companies in batch, tickets; the ten-secondly and daily limits answered with HubSpot's 429
 * bodies; injected 5xx; and a record of every call.
 */

export interface FakeContact {
  id: string;
  email: string;
  firstname?: string;
  lastname?: string;
  companyId?: string;
}

export class FakeHubSpot {
  readonly calls: Array<{ method: string; path: string; status: number; inputs: number; at: number }> = [];
  readonly contacts = new Map<string, FakeContact>();
  readonly companies = new Map<string, Record<string, string | null>>();
  readonly tickets = new Map<string, { properties: Record<string, string>; associations: unknown[] }>();
  /** The account's limits (Free/Starter: 100 per 10 s, 250,000 a day). */
  limitPer10s = 100;
  dailyLimit = 250_000;
  /** Answers for the next matching calls instead of the real one. */
  readonly faults: Array<{ match: (method: string, path: string) => boolean; status: number; times: number }> = [];
  /** Random faults on every request (the faulty-peer tests). */
  flaky: FlakyPeer | undefined;
  /** Everything answers 503 while down. */
  down = false;
  private recent: number[] = [];
  private today = 0;
  private server: Server;
  private base = '';
  private nextId = 5000;

  constructor(readonly accessToken = 'pat-na1-test-token') {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get baseUrl(): string {
    return this.base;
  }

  /** A company with a contact at it. */
  addCustomer(contact: Omit<FakeContact, 'id'> & { id?: string }, company?: Record<string, string | null> & { id: string }): FakeContact {
    const stored = { ...contact, id: contact.id ?? String(this.nextId++), ...(company ? { companyId: company.id } : {}) };
    this.contacts.set(stored.email.toLowerCase(), stored);
    if (company) {
      const { id, ...properties } = company;
      this.companies.set(id, { ...this.companies.get(id), ...properties });
    }
    return stored;
  }

  /** Calls that reached HubSpot's API (429s included), by kind. */
  count(kind?: 'contacts' | 'associations' | 'companies' | 'tickets'): number {
    const pattern = { contacts: '/crm/v3/objects/contacts', associations: '/crm/v4/associations', companies: '/crm/v3/objects/companies', tickets: '/crm/v3/objects/tickets' };
    return this.calls.filter((c) => !kind || c.path.startsWith(pattern[kind])).length;
  }

  get throttled(): number {
    return this.calls.filter((c) => c.status === 429).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const raw = await new Promise<string>((resolve) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => resolve(body));
    });
    const body = raw ? JSON.parse(raw) : {};
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      this.calls.push({ method, path, status, inputs: Array.isArray(body.inputs) ? body.inputs.length : 0, at: Date.now() });
      res.writeHead(status, { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${this.accessToken}`) return send(401, { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' });

    const now = Date.now();
    this.recent = this.recent.filter((t) => t > now - 10_000);
    if (this.today >= this.dailyLimit) return send(429, { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', policyName: 'DAILY', correlationId: 'x' });
    if (this.recent.length >= this.limitPer10s) {
      return send(429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING', correlationId: 'x' }, { 'X-HubSpot-RateLimit-Max': String(this.limitPer10s), 'X-HubSpot-RateLimit-Remaining': '0' });
    }
    this.recent.push(now);
    this.today++;
    const random = this.flaky?.next(`${method} ${path}`);
    if (random?.kind === 'hang') return; // never answered: the client's timeout must fire
    if (random) {
      return random.kind === 429
        ? send(429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING', correlationId: 'x' }, { 'Retry-After': String(random.retryAfterSeconds) })
        : send(503, { status: 'error', message: 'Service unavailable', category: 'SERVICE_UNAVAILABLE' });
    }
    const fault = this.faults.find((f) => f.times > 0 && f.match(method, path));
    if (fault?.status === 429) {
      fault.times--;
      return send(429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING', correlationId: 'x' }, { 'Retry-After': '1' });
    }
    if (this.down || fault) {
      if (fault) fault.times--;
      return send(fault?.status ?? 503, { status: 'error', message: 'Service unavailable', category: 'SERVICE_UNAVAILABLE' });
    }

    if (method === 'POST' && path === '/crm/v3/objects/contacts/batch/read') {
      if (body.idProperty !== 'email' || !Array.isArray(body.inputs) || !Array.isArray(body.properties) || !Array.isArray(body.propertiesWithHistory)) {
        return send(400, { status: 'error', message: 'inputs, properties and propertiesWithHistory are required', category: 'VALIDATION_ERROR' });
      }
      if (body.inputs.length > 100) return send(400, { status: 'error', message: 'Too many inputs: at most 100', category: 'VALIDATION_ERROR' });
      const results = [];
      const missing: string[] = [];
      for (const { id } of body.inputs as Array<{ id: string }>) {
        const contact = this.contacts.get(String(id).toLowerCase());
        if (!contact) missing.push(id);
        else results.push({ id: contact.id, properties: { email: contact.email, firstname: contact.firstname ?? null, lastname: contact.lastname ?? null, hs_object_id: contact.id }, createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z', archived: false });
      }
      const payload = { status: 'COMPLETE', results, startedAt: new Date().toISOString(), completedAt: new Date().toISOString() };
      if (missing.length === 0) return send(200, payload);
      return send(207, { ...payload, numErrors: 1, errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some CONTACT objects, they may be deleted or not exist.', context: { ids: missing } }] });
    }
    if (method === 'POST' && path === '/crm/v4/associations/contacts/companies/batch/read') {
      const results = (body.inputs as Array<{ id: string }>).flatMap(({ id }) => {
        const contact = [...this.contacts.values()].find((c) => c.id === id);
        return contact?.companyId ? [{ from: { id }, to: [{ toObjectId: Number(contact.companyId), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' }, { category: 'HUBSPOT_DEFINED', typeId: 279, label: null }] }] }] : [];
      });
      return send(200, { status: 'COMPLETE', results, startedAt: new Date().toISOString(), completedAt: new Date().toISOString() });
    }
    if (method === 'POST' && path === '/crm/v3/objects/companies/batch/read') {
      const results = (body.inputs as Array<{ id: string }>).flatMap(({ id }) => {
        const company = this.companies.get(String(id));
        if (!company) return [];
        const properties = Object.fromEntries((body.properties as string[]).map((p) => [p, company[p] ?? null]));
        return [{ id: String(id), properties: { ...properties, hs_object_id: String(id) }, createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z', archived: false }];
      });
      return send(200, { status: 'COMPLETE', results, startedAt: new Date().toISOString(), completedAt: new Date().toISOString() });
    }
    if (method === 'POST' && path === '/crm/v3/objects/tickets') {
      const id = String(this.nextId++);
      this.tickets.set(id, { properties: body.properties, associations: body.associations ?? [] });
      return send(201, { id, properties: body.properties, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), archived: false });
    }
    const ticket = /^\/crm\/v3\/objects\/tickets\/(\d+)$/.exec(path);
    if (method === 'PATCH' && ticket && this.tickets.has(ticket[1]!)) {
      Object.assign(this.tickets.get(ticket[1]!)!.properties, body.properties);
      return send(200, { id: ticket[1], properties: this.tickets.get(ticket[1]!)!.properties, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), archived: false });
    }
    if (method === 'GET' && path === '/crm/v3/objects/contacts') return send(200, { results: [] });
    send(404, { status: 'error', message: `unsupported by the fake: ${method} ${path}`, category: 'OBJECT_NOT_FOUND' });
  }
}
