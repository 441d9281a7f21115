import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adele, alex, channelMessage, CHANNEL_ID, megan, personalConversationId, type Person } from '../support/activities.js';
import { chartsIn, objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { startHarness, type Harness } from '../support/harness.js';
import { policyFrom } from '../support/policies.js';

const at = (iso: string) => Date.parse(iso);
const policy = policyFrom(`calendars:
  office: { timeZone: Europe/London, hours: { mon-fri: "09:00-17:00" } }
defaultCalendar: office
defaultTier: standard
tiers:
  standard:
    P1: { firstResponse: 30m, resolution: 2h }
    P2: { firstResponse: 1h, resolution: 4h }
    P3: { firstResponse: 4h, resolution: 2bd }
    P4: { firstResponse: 1bd, resolution: 5bd }
warnings: []
escalation: { default: [] }
`);

describe('the daily digest', () => {
  let h: Harness;
  let now = at('2026-11-23T10:00:00Z'); // Monday, London (GMT)

  beforeAll(async () => {
    h = await startHarness({ env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId }, service: { sla: policy, clock: () => now, sweeper: { pollIntervalMs: 3_600_000 } } });
    await h.install(alex, megan);
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
  });
  afterAll(() => h.stop());

  const db = () => h.service.database.db;
  const say = (person: Person, text: string) => h.say(person, text);
  const newest = async () => (await db().selectFrom('tickets').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
  const digests = () => h.connector.calls.filter((c) => c.status < 300 && /^(Your day|The team's day):/.test(String(c.activity.summary ?? '')));

  it('sends each agent their morning digest once, and one to the triage channel', async () => {
    await say(alex, 'new Printer jams');
    const breached = await newest();
    await say(megan, `priority ${breached} P2`);
    await say(megan, `take ${breached}`);
    now = at('2026-11-23T11:01:00Z');
    await h.service.sweeper.sweepOnce(); // the one-hour first response breaches on Monday
    now = at('2026-11-23T15:00:00Z');
    await say(alex, 'new Monitor flickers');
    const dueToday = await newest();
    await say(megan, `take ${dueToday}`); // P3: 4 business hours → due Tuesday 11:00

    // Monday's digests went out with Monday's first sweep after 08:00; Tuesday's wait for Tuesday 08:00.
    await h.connector.waitFor((c) => /^(Your day|The team's day):/.test(String(c.activity.summary ?? '')), { count: 2 });
    const monday = digests().length;
    now = at('2026-11-24T07:59:00Z');
    await h.service.sweeper.sweepOnce();
    expect(digests()).toHaveLength(monday);
    now = at('2026-11-24T08:01:00Z');
    await h.service.sweeper.sweepOnce();
    await h.connector.waitFor((c) => /^(Your day|The team's day):/.test(String(c.activity.summary ?? '')), { count: monday + 2 });
    await h.service.sweeper.sweepOnce();
    expect(await db().selectFrom('digests').select(['recipient', 'day']).where('day', '=', '2026-11-24').execute()).toHaveLength(2);

    const tuesday = digests().slice(monday);
    const [mine, team] = [tuesday.find((c) => c.conversationId === personalConversationId(megan))!, tuesday.find((c) => c.conversationId === CHANNEL_ID)!];
    expect(mine.activity.summary).toBe('Your day: 1 due today, 1 breached yesterday');
    expect(JSON.stringify(mine.activity.attachments[0].content)).toContain(`INC-${dueToday}`);
    expect(JSON.stringify(mine.activity.attachments[0].content)).toContain('{{TIME(2026-11-24T11:00:00Z)}}');
    expect(team.activity.summary).toMatch(/^The team's day: \d+ due today, 1 breached yesterday$/);
    // Under the lists, how the SLAs were kept: the breached P2 is the only ticket decided so far.
    const charts = chartsIn(team.activity.attachments[0].content);
    expect(charts.map((c) => c.type)).toEqual(['Chart.VerticalBar.Grouped', 'Chart.VerticalBar.Grouped', 'Chart.Line']);
    expect(charts[0]!.data.map((s) => s.values)).toEqual([[{ x: 'P2', y: 0 }], [{ x: 'P2', y: 0 }]]);
    expect(charts[2]!.data[0]!.values.at(-1)).toEqual({ x: '24 Nov', y: 2 });
    expect(digests()).toHaveLength(monday + 2);
    for (const call of digests()) {
      expect(schemaErrors(call.activity.attachments[0].content)).toEqual([]);
      expect(objectModelErrors(call.activity.attachments[0].content)).toEqual([]);
    }
  });
});
