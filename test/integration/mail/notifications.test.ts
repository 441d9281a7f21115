import { afterEach, describe, expect, it } from 'vitest';
import { composeEml } from '../../fakes/mail-message.js';
import { startHarness, type Harness } from '../../support/harness.js';

const PUBLIC_URL = 'https://desk.contoso.example/api/notifications/graph';
let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const ticketSubjects = async () => (await h.service.database.db.selectFrom('tickets').select('subject').orderBy('id').execute()).map((t) => t.subject);

async function withSubscription(env: Record<string, string> = {}) {
  h = await startHarness({ mail: true, env: { GRAPH_NOTIFICATION_URL: PUBLIC_URL, ...env } });
  await expect.poll(() => h.graph.subscriptions.size).toBe(1);
  // The round that made the subscription reads the mailbox next: let it finish, so mail delivered
  // after this comes in only when something (a notification, a poll) asks for it.
  await expect.poll(() => {
    const stats = h.service.mail!.sync.stats;
    return stats.rounds > 0 && stats.rounds === stats.roundsStarted;
  }).toBe(true);
  return [...h.graph.subscriptions.values()][0]!;
}

describe('Graph change notifications', () => {
  it('subscribes through the validation handshake, and a notification brings new mail in at once', async () => {
    const sub = await withSubscription();
    expect(sub).toMatchObject({ notificationUrl: PUBLIC_URL, resource: "users/support%40contoso.example/mailFolders('inbox')/messages" });
    expect(sub.clientState).toMatch(/^[0-9a-f]{48}$/);
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Notified', text: 'x' }));
    const started = Date.now();
    expect(await h.graph.notify()).toEqual([202]);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect.poll(ticketSubjects).toEqual(['Notified']);
  });

  it('refuses notifications with the wrong clientState, and malformed ones', async () => {
    await withSubscription();
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Spoofed', text: 'x' }));
    const post = (body: unknown) => fetch(`${h.service.url}/api/notifications/graph`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ value: [{ subscriptionId: 'x', clientState: 'guess', changeType: 'created' }] })).status).toBe(401);
    expect((await post({ nothing: true })).status).toBe(400);
    expect(await ticketSubjects()).toEqual([]);
  });

  it('renews the subscription before it runs out, and recreates it when Graph removed it', async () => {
    // Graph grants 10 minutes where 60 were asked: a quarter of the lifetime is already all that is left.
    h = await startHarness({ mail: true, env: { GRAPH_NOTIFICATION_URL: PUBLIC_URL, GRAPH_SUBSCRIPTION_MINUTES: '60' } });
    h.graph.maxSubscriptionMinutes = 10;
    await expect.poll(() => h.graph.subscriptions.size).toBe(1);
    const first = [...h.graph.subscriptions.values()][0]!;
    await h.syncMail();
    expect(h.graph.requests.some((r) => r.method === 'PATCH' && r.path === `/v1.0/subscriptions/${first.id}` && r.status === 200)).toBe(true);

    expect(await h.graph.lifecycle('subscriptionRemoved')).toEqual([202]);
    await expect.poll(() => [...h.graph.subscriptions.keys()]).toHaveLength(1);
    expect([...h.graph.subscriptions.keys()][0]).not.toBe(first.id);
  });

  it('renews on reauthorizationRequired and catches up on missed', async () => {
    const sub = await withSubscription();
    const patches = () => h.graph.requests.filter((r) => r.method === 'PATCH' && r.path === `/v1.0/subscriptions/${sub.id}`).length;
    expect(await h.graph.lifecycle('reauthorizationRequired')).toEqual([202]);
    await expect.poll(patches).toBe(1);
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Missed one', text: 'x' }));
    expect(await h.graph.lifecycle('missed')).toEqual([202]);
    await expect.poll(ticketSubjects).toEqual(['Missed one']);
  });
});
