import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorCall } from '../fakes/connector.js';
import { alex, cardAction, megan, personalConversationId, type Person } from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { openTicket, testClock } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';

const at = (iso: string) => Date.parse(iso);

describe('reminders (endpoint, fake clock, restart)', () => {
  // A desk (and database file) of its own for each test: a sweep fires every reminder that is due,
  // so what fires must be only this test's.
  let h: Harness;
  const clock = testClock('2026-11-23T10:00:00Z'); // Monday; megan's client says Europe/London (GMT in November)

  beforeEach(async () => {
    clock.reset();
    const dir = mkdtempSync(join(tmpdir(), 'reminders-'));
    h = await startHarness({
      env: { AGENT_IDS: megan.aadObjectId, DATABASE_URL: `sqlite:${join(dir, 'desk.db')}` },
      service: { clock: clock.now, sweeper: { pollIntervalMs: 3_600_000 } },
    });
    await h.install(alex, megan);
    // Megan has written from her Teams client, whose clientInfo tells the bot her time zone.
    await h.say(megan, 'help');
  });
  afterEach(async () => {
    // Every reminder card a test caused must be one Teams can render.
    const cards = reminderCards().map(cardOf);
    await h.stop();
    for (const card of cards) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
  });

  const db = () => h.service.database.db;
  const cardOf = (c: ConnectorCall) => c.activity.attachments?.[0]?.content;
  const textOf = (c: ConnectorCall | undefined) => JSON.stringify(cardOf(c!) ?? c!.activity.text);
  const say = (person: Person, text: string) => h.say(person, text);
  const reminderCards = () => h.connector.calls.filter((c) => c.status < 300 && c.operation === 'send' && String(c.activity.summary ?? '').startsWith('Reminder'));
  const newTicket = async () => (await openTicket(h, alex, 'Follow up with the printer vendor')).id;
  /** Megan asks, on Monday 10:00, to be reminded of ticket `id` in two hours; returns the reminder's id. */
  async function remindIn2h(id: number): Promise<number> {
    expect(textOf(await say(megan, `remind me ${id} in 2h`))).toContain(`I'll remind you about INC-${id} on Mon 23 Nov, 12:00 (Europe/London)`);
    return (await db().selectFrom('reminders').select('id').where('ticket_id', '=', id).executeTakeFirstOrThrow()).id;
  }
  /** The clock reaches 12:00 and the sweep fires the reminder. */
  async function fired(): Promise<void> {
    clock.set('2026-11-23T12:00:00Z');
    await h.service.sweeper.sweepOnce();
    await h.connector.waitFor((c) => c.conversationId === personalConversationId(megan) && String(c.activity.summary ?? '').startsWith('Reminder'));
  }

  it('sets a reminder in the person’s own time zone, and refuses a time it cannot read', async () => {
    const id = await newTicket();
    expect(textOf(await say(megan, `remind me ${id} in 2h`))).toContain(`I'll remind you about INC-${id} on Mon 23 Nov, 12:00 (Europe/London)`);
    expect(textOf(await say(megan, `remind me ${id} someday`))).toMatch(/I can't read \\"someday\\"/);
    expect(await db().selectFrom('reminders').select('ticket_id').execute()).toEqual([{ ticket_id: id }]);
  });

  it('fires once when due, after a restart too', async () => {
    await remindIn2h(await newTicket());
    clock.set('2026-11-23T11:00:00Z');
    await h.service.sweeper.sweepOnce();
    expect(reminderCards()).toHaveLength(0);
    await h.restart();
    clock.set('2026-11-23T12:00:00Z');
    await h.service.sweeper.sweepOnce();
    await h.service.sweeper.sweepOnce();
    const [card] = await h.connector.waitFor((c) => c.conversationId === personalConversationId(megan) && String(c.activity.summary ?? '').startsWith('Reminder'));
    expect(cardOf(card!).actions.map((a: any) => a.title)).toEqual(['Complete', 'Snooze 15 min', 'Snooze 1 h', 'Tomorrow', 'Open ticket']);
    expect(reminderCards()).toHaveLength(1);
  });

  it('snoozes from the card and comes back once more, then completes', async () => {
    const id = await newTicket();
    const reminderId = await remindIn2h(id);
    await fired();
    const snoozed = await h.post(cardAction(h, { verb: 'reminder.snooze', data: { reminder: reminderId, minutes: 15 }, from: megan }));
    expect(JSON.stringify(snoozed.body.value)).toContain('Reminder snoozed');
    expect(JSON.stringify(snoozed.body.value)).toContain('{{TIME(2026-11-23T12:15:00Z)}}');
    const someoneElse = await h.post(cardAction(h, { verb: 'reminder.complete', data: { reminder: reminderId }, from: alex }));
    expect(JSON.stringify(someoneElse.body)).toContain('You have no such reminder');
    clock.set('2026-11-23T12:16:00Z');
    await h.service.sweeper.sweepOnce();
    await h.connector.waitFor(() => reminderCards().length === 2);
    const done = await h.post(cardAction(h, { verb: 'reminder.complete', data: { reminder: reminderId }, from: megan }));
    expect(JSON.stringify(done.body.value)).toContain('Reminder completed');
    clock.set('2026-11-24T12:00:00Z');
    await h.service.sweeper.sweepOnce();
    expect(reminderCards()).toHaveLength(2);
    const timeline = await db().selectFrom('timeline_entries').select('body').where('ticket_id', '=', id).where('kind', '=', 'reminder').execute();
    expect(timeline.map((t) => t.body)).toEqual([
      'Reminder set for Mon 23 Nov, 12:00 (Europe/London)',
      'Reminder sent to Megan Bowen',
      'Reminder snoozed until Mon 23 Nov, 12:15 (Europe/London)',
      'Reminder sent to Megan Bowen',
      'Reminder completed by Megan Bowen',
    ]);
  });

  it('sets a reminder from the ticket card’s Remind button', async () => {
    const id = await newTicket();
    clock.set('2026-11-24T12:00:00Z'); // Tuesday noon: "tomorrow" is Wednesday
    const response = await h.post(cardAction(h, { verb: 'reminder.create', data: { ticket: id, when: 'tomorrow 9:00', whenText: '' }, from: megan }));
    expect(JSON.stringify(response.body.value)).toContain(`I'll remind you about INC-${id} on Wed 25 Nov, 09:00 (Europe/London)`);
  });

  it('sends reminder cards that validate against Adaptive Cards 1.5', async () => {
    // The reminder when due, and again after a snooze.
    const reminderId = await remindIn2h(await newTicket());
    await fired();
    await h.post(cardAction(h, { verb: 'reminder.snooze', data: { reminder: reminderId, minutes: 15 }, from: megan }));
    clock.set('2026-11-23T12:16:00Z');
    await h.service.sweeper.sweepOnce();
    await h.connector.waitFor(() => reminderCards().length === 2);
    expect(reminderCards()).toHaveLength(2);
    for (const card of reminderCards().map(cardOf)) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
  });
});
