import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/services/actors.js';
import { DigestService } from '../../src/services/digests.js';
import { EscalationService } from '../../src/services/escalations.js';
import { ReminderService } from '../../src/services/reminders.js';
import { ReportService } from '../../src/services/reports.js';
import { SlaService } from '../../src/services/sla.js';
import { TicketService } from '../../src/services/tickets.js';
import { rememberConversation } from '../../src/store/conversation-references.js';
import type { Database } from '../../src/store/database.js';
import { upsertPerson } from '../../src/store/people.js';
import { claimSlaChecks } from '../../src/store/sla.js';
import { mapChannel } from '../../src/store/support-teams.js';
import { engines } from '../support/databases.js';
import { officePolicy } from '../support/policies.js';

const at = (iso: string) => Date.parse(iso);
const policy = officePolicy(
  `
P1: { firstResponse: 30m, resolution: 2h }
P2: { firstResponse: 1h, resolution: 4h }
P3: { firstResponse: 1h, resolution: 4h }
P4: { firstResponse: 1bd, resolution: 5bd }
`,
  `warnings: [75%]
escalation:
  default:
    - { notify: channel:triage, timeout: 30m }
`,
);

/** The SLA, escalation, reminder and digest write paths on every engine (SQL that only Postgres would reject). */
describe.each(engines)('SLA work on $name', (engine) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let now = at('2026-11-23T10:00:00Z');
  let requester: Actor;
  let agent: Actor;
  let tickets: TicketService;
  let escalations: EscalationService;
  let sla: SlaService;

  beforeEach(async () => {
    ({ database, cleanup } = await engine.open());
    now = at('2026-11-23T10:00:00Z');
    const clock = () => now;
    tickets = new TicketService({ database, sla: policy, clock });
    escalations = new EscalationService({ database, policy, tickets, clock });
    sla = new SlaService({ database, policy, escalations, clock });
    requester = { person: await upsertPerson(database.db, { teamsId: '29:r', aadObjectId: 'r', tenantId: 't', name: 'Requester' }, 'requester', 1), role: 'requester' };
    agent = { person: await upsertPerson(database.db, { teamsId: '29:a', aadObjectId: 'a', tenantId: 't', name: 'Agent' }, 'agent', 1), role: 'agent' };
    const channel = await rememberConversation(database.db, { conversationId: '19:triage', kind: 'channel', tenantId: 't', teamId: '19:team', userTeamsId: null, userAadObjectId: null, serviceUrl: 'http://x/', reference: {} }, 1);
    await mapChannel(database.db, 'triage', { conversationRefId: channel.id, teamId: '19:team', setBy: agent.person.id }, 1);
    await rememberConversation(database.db, { conversationId: 'a:agent', kind: 'personal', tenantId: 't', teamId: null, userTeamsId: '29:a', userAadObjectId: 'a', serviceUrl: 'http://x/', reference: {} }, 1);
  });
  afterEach(() => cleanup());

  const open = async () => {
    const created = await tickets.create({ actor: requester, surface: 'chat' }, { type: 'incident', subject: 'Down', description: '', priority: 'P3', teamId: null, source: 'chat', postTo: [] });
    if (!created.ok) throw new Error(created.reason);
    return created.value.id;
  };
  const sweepDue = async () => {
    for (const id of await claimSlaChecks(database.db, database.dialect, { now, limit: 100, leaseMs: 60_000 })) await sla.sweep(id);
  };

  it('warns, breaches, escalates and accepts, each once', async () => {
    const id = await open();
    now = at('2026-11-23T10:46:00Z');
    await sweepDue();
    await sweepDue();
    now = at('2026-11-23T11:01:00Z');
    await sweepDue();
    const events = await database.db.selectFrom('sla_events').select(['kind', 'outcome']).where('ticket_id', '=', id).orderBy('id').execute();
    expect(events).toEqual([
      { kind: 'warning', outcome: 'sent' },
      { kind: 'breach', outcome: 'sent' },
    ]);
    const escalation = await database.db.selectFrom('escalations').selectAll().where('ticket_id', '=', id).executeTakeFirstOrThrow();
    expect(escalation).toMatchObject({ state: 'open', trigger: 'breach', level: 0 });
    const [first, second] = await Promise.all([escalations.accept(agent, escalation.id), escalations.accept(agent, escalation.id)]);
    expect([first.ok, second.ok].filter(Boolean)).toHaveLength(1);
    now = at('2026-11-23T12:00:00Z');
    expect(await escalations.timeouts()).toBe(0);
    const snooze = await sla.snooze(agent, id, 'resolution', 30);
    expect(snooze).toMatchObject({ ok: true, value: { until: at('2026-11-23T12:30:00Z') } });
  });

  it('sends reminders once and morning digests once', async () => {
    const id = await open();
    await tickets.take({ actor: agent, surface: 'chat' }, id);
    const reminders = new ReminderService({ database, policy, clock: () => now });
    const created = await reminders.create(agent, id, 'in 1h');
    expect(created.ok).toBe(true);
    now = at('2026-11-23T11:00:00Z');
    expect(await reminders.fireDue()).toBe(1);
    expect(await reminders.fireDue()).toBe(0);
    const digests = new DigestService({ database, policy, reports: new ReportService({ db: database.db, policy, clock: () => now }), clock: () => now });
    expect(await digests.sendDue()).toBe(2);
    expect(await digests.sendDue()).toBe(0);
  });
  it('reports SLA attainment and the open-ticket trend', async () => {
    const met = await open();
    await tickets.take({ actor: agent, surface: 'chat' }, met);
    await tickets.changeStatus({ actor: agent, surface: 'chat' }, met, 'resolved');
    const breached = await open();
    now = at('2026-11-23T11:05:00Z');
    await sweepDue();
    await open(); // running, inside its targets
    const report = await new ReportService({ db: database.db, policy, clock: () => now }).build({ trendDays: 3 });
    expect(report.windows.map((w) => w.byPriority.find((a) => a.key === 'P3'))).toEqual([
      { key: 'P3', met: 1, decided: 2 },
      { key: 'P3', met: 1, decided: 2 },
    ]);
    expect(report.trend).toEqual([
      { day: '21 Nov', open: 0 },
      { day: '22 Nov', open: 0 },
      { day: '23 Nov', open: 2 },
    ]);
    expect(breached).toBeGreaterThan(met);
  });
});
