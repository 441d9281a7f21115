import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorCall } from '../fakes/connector.js';
import { alex, cardAction, megan, personalConversationId, type Person } from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { startHarness, type Harness } from '../support/harness.js';

const at = (iso: string) => Date.parse(iso);

describe('reminders (endpoint, fake clock, restart)', () => {
  let h: Harness;
  let now = at('2026-11-23T10:00:00Z'); // Monday; megan's client says Europe/London (GMT in November)

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reminders-'));
    h = await startHarness({
      env: { AGENT_IDS: megan.aadObjectId, DATABASE_URL: `sqlite:${join(dir, 'desk.db')}` },
      service: { clock: () => now, sweeper: { pollIntervalMs: 3_600_000 } },
    });
    await h.install(alex, megan);
  });
  afterAll(() => h.stop());

  const db = () => h.service.database.db;
  const cardOf = (c: ConnectorCall) => c.activity.attachments?.[0]?.content;
  const textOf = (c: ConnectorCall | undefined) => JSON.stringify(cardOf(c!) ?? c!.activity.text);
  const say = (person: Person, text: string) => h.say(person, text);
  const reminderCards = () => h.connector.calls.filter((c) => c.status < 300 && c.operation === 'send' && String(c.activity.summary ?? '').startsWith('Reminder'));
  let id: number;
  let reminderId: number;

  it('sets a reminder in the person’s own time zone, and refuses a time it cannot read', async () => {
    await say(alex, 'new Follow up with the printer vendor');
    id = (await db().selectFrom('tickets').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
    expect(textOf(await say(megan, `remind me ${id} in 2h`))).toContain(`I'll remind you about INC-${id} on Mon 23 Nov, 12:00 (Europe/London)`);
    expect(textOf(await say(megan, `remind me ${id} someday`))).toMatch(/I can't read \\"someday\\"/);
    reminderId = (await db().selectFrom('reminders').select('id').executeTakeFirstOrThrow()).id;
  });

  it('fires once when due, after a restart too', async () => {
    now = at('2026-11-23T11:00:00Z');
    await h.service.sweeper.sweepOnce();
    expect(reminderCards()).toHaveLength(0);
    await h.restart();
    now = at('2026-11-23T12:00:00Z');
    await h.service.sweeper.sweepOnce();
    await h.service.sweeper.sweepOnce();
    const [card] = await h.connector.waitFor((c) => c.conversationId === personalConversationId(megan) && String(c.activity.summary ?? '').startsWith('Reminder'));
    expect(cardOf(card!).actions.map((a: any) => a.title)).toEqual(['Complete', 'Snooze 15 min', 'Snooze 1 h', 'Tomorrow', 'Open ticket']);
    expect(reminderCards()).toHaveLength(1);
  });

  it('snoozes from the card and comes back once more, then completes', async () => {
    const snoozed = await h.post(cardAction(h, { verb: 'reminder.snooze', data: { reminder: reminderId, minutes: 15 }, from: megan }));
    expect(JSON.stringify(snoozed.body.value)).toContain('Reminder snoozed');
    expect(JSON.stringify(snoozed.body.value)).toContain('{{TIME(2026-11-23T12:15:00Z)}}');
    const someoneElse = await h.post(cardAction(h, { verb: 'reminder.complete', data: { reminder: reminderId }, from: alex }));
    expect(JSON.stringify(someoneElse.body)).toContain('You have no such reminder');
    now = at('2026-11-23T12:16:00Z');
    await h.service.sweeper.sweepOnce();
    await h.connector.waitFor(() => reminderCards().length === 2);
    const done = await h.post(cardAction(h, { verb: 'reminder.complete', data: { reminder: reminderId }, from: megan }));
    expect(JSON.stringify(done.body.value)).toContain('Reminder completed');
    now = at('2026-11-24T12:00:00Z');
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
    const response = await h.post(cardAction(h, { verb: 'reminder.create', data: { ticket: id, when: 'tomorrow 9:00', whenText: '' }, from: megan }));
    expect(JSON.stringify(response.body.value)).toContain(`I'll remind you about INC-${id} on Wed 25 Nov, 09:00 (Europe/London)`);
  });

  it('sends reminder cards that validate against Adaptive Cards 1.5', () => {
    for (const card of reminderCards().map(cardOf)) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
  });
});
