import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeEml } from '../fakes/mail-message.js';
import { adele, alex, channelMessage, CHANNEL_ID, megan, personalMessage } from '../support/activities.js';
import { createdReference, openTicket } from '../support/factories.js';
import { BOT_PASSWORD, GRAPH_SECRET, startHarness, type Harness } from '../support/harness.js';

/**
 * The log as an operator reads it: one JSON line per event, and one correlation id that leads from a
 * chat message or an email through the outbox and the workers to what they caused, without the words
 * people wrote and without secrets.
 */
describe('logs', () => {
  let h: Harness;
  const lines = () => h.logs.lines;
  const under = (id: string) => lines().filter((l) => l.correlationId === id);

  beforeAll(async () => {
    h = await startHarness({ mail: true, env: { LOG_LEVEL: 'info', AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId } });
    await h.install(alex, megan);
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
  });
  afterAll(() => h.stop());

  it('follows a chat message to the ticket it opened and the card the outbox sent for it', async () => {
    const message = personalMessage(h, 'new Badge reader rejects the code 4711-PLUGH', { from: alex });
    await h.post(message);
    const [answer] = await h.connector.waitFor((c) => c.activityId === message.id);
    const ticket = { reference: createdReference(answer!) };
    await h.connector.waitFor((c) => c.conversationId === CHANNEL_ID && JSON.stringify(c.activity).includes(ticket.reference));
    await waitForLine(h, (l) => l.correlationId === `activity:${message.id}` && l.msg === 'outbox message delivered');

    const events = under(`activity:${message.id}`).map((l) => l.msg);
    expect(events).toContain('ticket created');
    expect(events).toContain('activity handled');
    expect(events).toContain('outbox message delivered');
    expect(under(`activity:${message.id}`).find((l) => l.msg === 'ticket created')).toMatchObject({ level: 'info', ticket: ticket.reference, source: 'chat' });
  });

  it('follows an email by its Message-ID to its ticket, its triage card and its acknowledgement', async () => {
    const sentBefore = h.graph.sent.length;
    const mail = await h.graph.deliver(composeEml({ from: 'dana@fabrikam.example', subject: 'Scanner offline', text: 'The scanner says XYZZY-secret-words and stops.' }));
    await h.syncMail();
    await h.graph.waitForSent(sentBefore + 1);
    const id = `mail:${mail.internetMessageId}`;
    await waitForLine(h, (l) => l.correlationId === id && l.msg === 'outbox message delivered');
    await waitForLine(h, (l) => l.correlationId === id && l.msg === 'email sent');

    const events = under(id).map((l) => l.msg);
    expect(events).toEqual(expect.arrayContaining(['email ingested', 'outbox message delivered', 'email sent']));
    expect(under(id).find((l) => l.msg === 'email sent')).toMatchObject({ kind: 'acknowledgement' });
  });

  it('keeps what people wrote and every secret out of the log', async () => {
    // Words people wrote, in a chat ticket, an email, and an agent's note, all of them logged about.
    const ticket = await openTicket(h, alex, 'Badge reader rejects the code 4711-PLUGH');
    const sentBefore = h.graph.sent.length;
    const mail = await h.graph.deliver(composeEml({ from: 'erin@fabrikam.example', subject: 'Plotter offline', text: 'The plotter says XYZZY-secret-words and stops.' }));
    await h.syncMail();
    await h.graph.waitForSent(sentBefore + 1);
    expect(under(`mail:${mail.internetMessageId}`).map((l) => l.msg)).toContain('email ingested');
    await h.say(megan, `note ${ticket.reference} the door code is 4711-PLUGH`);
    expect(lines().some((l) => l.msg === 'ticket changed' && l.ticket === ticket.reference)).toBe(true);
    const text = h.logs.raw.join('\n');
    expect(lines().length).toBeGreaterThan(10);
    for (const secret of ['4711-PLUGH', 'XYZZY-secret-words', BOT_PASSWORD, GRAPH_SECRET]) expect(text).not.toContain(secret);
    // Every line is one JSON object with a level and a message.
    for (const line of lines()) expect(line).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
  });
});

async function waitForLine(h: Harness, match: (line: Record<string, any>) => boolean): Promise<void> {
  for (let i = 0; i < 200 && !h.logs.lines.some(match); i++) await new Promise((resolve) => setImmediate(resolve));
  if (h.logs.lines.some(match)) return;
  // The outbox and mail workers run on their own loops: wait for their next rounds, not a fixed time.
  await h.service.outbox.drainOnce();
  if (!h.logs.lines.some(match)) throw new Error('no such log line');
}
