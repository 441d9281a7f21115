import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personalMessage } from '../support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD, startHarness, type Harness } from '../support/harness.js';

/** The real JWT validation of botframework-connector, against the fake channel's identity provider. */
describe('inbound authentication', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  const storedConversations = () => h.service.database.db.selectFrom('conversation_references').select('conversation_id').execute();

  it('answers a validly signed activity, and its reply reaches the connector with the bot token', async () => {
    const activity = personalMessage(h, 'help');
    const response = await h.post(activity);
    expect(response.status).toBe(200);
    const [reply] = await h.connector.waitFor((c) => c.operation === 'reply' && c.activityId === activity.id);
    expect(reply!.appId).toBe(BOT_APP_ID);
    expect(reply!.activity.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(h.identity.tokenRequests.some((r) => r.clientId === BOT_APP_ID && r.scope === 'https://api.botframework.com')).toBe(true);
  });

  it.each([
    ['no Authorization header', { header: null }, 401],
    ['a token for another bot', { audience: '11111111-2222-3333-4444-555555555555' }, 401],
    ['a token from another issuer', { issuer: 'https://sts.windows.net/evil/' }, 401],
    ['an expired token', { expiresIn: -3600 }, 401],
    ['a forged signature', { forged: true }, 401],
    ['a token bound to another serviceUrl', { serviceUrl: 'https://smba.trafficmanager.net/evil/' }, 401],
    ['a malformed bearer token', { header: 'Bearer not.a.jwt' }, 401],
  ] as const)('refuses %s, stores nothing and keeps serving', async (_name, auth, status) => {
    const before = await storedConversations();
    const callsBefore = h.connector.calls.length;
    const activity = personalMessage(h, 'help', { from: { id: `29:intruder-${Math.random()}`, aadObjectId: crypto.randomUUID(), name: 'Intruder' } });
    const response = await h.post(activity, auth);
    expect(response.status).toBe(status);
    expect(await storedConversations()).toEqual(before);
    expect(h.connector.calls.length).toBe(callsBefore);
    // Still alive and still answering real requests.
    expect((await fetch(`${h.service.url}/healthz`)).status).toBe(200);
  });

  it('never writes the bot secret or a bearer token to the log', async () => {
    // A turn that fetches and sends with the bot token, and a request refused for its token.
    const activity = personalMessage(h, 'help');
    expect((await h.post(activity)).status).toBe(200);
    await h.connector.waitFor((c) => c.activityId === activity.id);
    expect((await h.post(personalMessage(h, 'help'), { forged: true })).status).toBe(401);
    expect(h.identity.tokenRequests.some((r) => r.clientId === BOT_APP_ID)).toBe(true);
    const all = h.logs.raw.join('\n');
    expect(all).not.toContain(BOT_PASSWORD);
    expect(all).not.toMatch(/Bearer ey/);
  });
});
