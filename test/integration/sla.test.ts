import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorCall } from '../fakes/connector.js';
import { alex, megan, type Person } from '../support/activities.js';
import { openTicket, testClock } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';
import { officePolicy } from '../support/policies.js';

const at = (iso: string) => Date.parse(iso);

/** Office hours Mon–Fri 09:00–17:00 UTC; P2: first response 1 h, resolution 4 h; P1: 30 m / 2 h. */
const policy = officePolicy(
  `
P1: { firstResponse: 30m, resolution: 2h }
P2: { firstResponse: 1h, resolution: 4h }
P3: { firstResponse: 4h, resolution: 2bd }
P4: { firstResponse: 1bd, resolution: 5bd }
`,
  `warnings: [75%]
`,
);

describe('SLA clocks on tickets, through the endpoint (business time, fake clock)', () => {
  let h: Harness;
  const clock = testClock('2026-11-23T10:00:00Z'); // a Monday

  beforeAll(async () => {
    h = await startHarness({ env: { AGENT_IDS: megan.aadObjectId }, service: { sla: policy, clock: clock.now } });
    await h.install(alex, megan);
  });
  afterAll(() => h.stop());
  beforeEach(() => clock.reset());

  const db = () => h.service.database.db;
  const textOf = (call: ConnectorCall | undefined) => JSON.stringify(call!.activity.attachments?.[0]?.content ?? call!.activity.text);
  const say = (person: Person, text: string) => h.say(person, text);
  const row = (id: number) => db().selectFrom('tickets').select(['first_response_due_at', 'resolution_due_at', 'sla_due_at', 'next_sla_check_at', 'priority']).where('id', '=', id).executeTakeFirstOrThrow();

  /**
   * The life of one printer ticket, a step at a time; each test opens a ticket of its own and takes it
   * through the steps before the one it checks.
   */
  const story = {
    /** Monday 10:00: opened as P3 (4 h / 2 business days); the agent raises it to P2 at once. */
    async opened(): Promise<number> {
      const { id } = await openTicket(h, alex, 'Printer on floor 2 is down');
      await say(megan, `priority ${id} P2`);
      return id;
    },
    /** Monday 11:30, half an hour past the first-response target: the agent answers. */
    async answered(id: number): Promise<void> {
      clock.set('2026-11-23T11:30:00Z');
      await say(megan, `reply ${id} a technician is on the way`);
    },
    /** Pending the customer from Monday 12:00 (2 h of resolution used) until they answer Tuesday 10:00. */
    async pausedAndResumed(id: number): Promise<void> {
      clock.set('2026-11-23T12:00:00Z');
      await say(megan, `pending ${id}`);
      clock.set('2026-11-24T10:00:00Z');
      await say(alex, `reply ${id} it started working again`);
    },
    /** Tuesday 10:30 (2.5 h of resolution used): raised to P1, whose target is 2 h. */
    async raised(id: number): Promise<void> {
      clock.set('2026-11-24T10:30:00Z');
      await say(megan, `priority ${id} P1`);
    },
  };

  it('starts both clocks at creation, with due times in business time and the first warning as the next check', async () => {
    // Opened as P3 (4 h / 2 business days); the agent raises it to P2 at once: new targets, nothing used yet.
    const id = await story.opened();
    expect(await row(id)).toEqual({
      first_response_due_at: at('2026-11-23T11:00:00Z'),
      resolution_due_at: at('2026-11-23T14:00:00Z'),
      sla_due_at: at('2026-11-23T11:00:00Z'),
      // 75% of the one-hour first-response target.
      next_sla_check_at: at('2026-11-23T10:45:00Z'),
      priority: 'P2',
    });
    expect(textOf(await say(megan, `show ${id}`))).toContain('First response due in 1h');
  });

  it('shows a breach on the card and in the breaching list', async () => {
    const id = await story.opened();
    clock.set('2026-11-23T11:30:00Z');
    expect(textOf(await say(megan, `show ${id}`))).toContain('First response breached 30m ago');
    expect(textOf(await say(megan, 'breaching'))).toContain(`INC-${id}`);
  });

  it('stops the first-response clock at the first public reply', async () => {
    const id = await story.opened();
    await story.answered(id);
    expect((await row(id)).first_response_due_at).toBeNull();
    expect(textOf(await say(megan, `show ${id}`))).toContain('Resolution due in 2h 30m');
  });

  it('pauses resolution while pending the customer, however long, and resumes when they answer', async () => {
    const id = await story.opened();
    await story.answered(id);
    clock.set('2026-11-23T12:00:00Z');
    await say(megan, `pending ${id}`);
    expect((await row(id)).resolution_due_at).toBeNull();
    clock.set('2026-11-24T10:00:00Z');
    expect(textOf(await say(megan, `show ${id}`))).toContain('Paused (pending customer), 2h left');
    await say(alex, `reply ${id} it started working again`);
    expect(await row(id)).toMatchObject({ resolution_due_at: at('2026-11-24T12:00:00Z') });
  });

  it('keeps the business time used when the priority goes up, breaching at once if it must', async () => {
    const id = await story.opened();
    await story.answered(id);
    await story.pausedAndResumed(id);
    expect(await row(id)).toMatchObject({ resolution_due_at: at('2026-11-24T12:00:00Z') });
    await story.raised(id);
    const now = clock.now();
    // 2.5 h of resolution time used against a new 2 h target: due at once, and the sweep is asked to look now.
    expect(await row(id)).toMatchObject({ resolution_due_at: now, next_sla_check_at: now });
    expect(textOf(await say(megan, `show ${id}`))).toContain('Resolution breached 30m ago');
  });

  it('stops the clocks when resolved, and restarts resolution on reopening without giving back time', async () => {
    const id = await story.opened();
    await story.answered(id);
    await story.pausedAndResumed(id);
    await story.raised(id);
    expect(await row(id)).toMatchObject({ priority: 'P1', resolution_due_at: at('2026-11-24T10:30:00Z') });
    await say(megan, `resolve ${id}`);
    expect(await row(id)).toMatchObject({ resolution_due_at: null, sla_due_at: null, next_sla_check_at: null });
    expect(textOf(await say(megan, `show ${id}`))).toContain('Resolution met');
    clock.set('2026-11-24T11:00:00Z');
    await say(alex, `reopen ${id} it broke again`);
    expect(await row(id)).toMatchObject({ resolution_due_at: at('2026-11-24T11:00:00Z') });
  });
});
