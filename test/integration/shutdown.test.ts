import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/store/outbox.js';
import { findConversation } from '../../src/store/conversation-references.js';
import { personalConversationId, personalInstall, personalMessage, somebody } from '../support/activities.js';
import { startHarness, type Harness } from '../support/harness.js';

describe('graceful shutdown', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.connector.stop();
    await h.identity.stop();
  });

  it('finishes the turn and the send in flight, refuses new work, and closes the database', async () => {
    const person = somebody();
    const install = personalInstall(h, 'add', person);
    await h.post(install);
    await h.connector.waitFor((c) => c.activityId === install.id);
    const ref = (await findConversation(h.service.database.db, personalConversationId(person)))!.id;

    // Every connector answer now takes 400 ms, so the turn below is still running when we stop.
    h.connector.delayMs = 400;
    const message = personalMessage(h, 'help', { from: person });
    const replyArrived = h.connector.waitForArrival((c) => c.activityId === message.id);
    const sendArrived = h.connector.waitForArrival((c) => c.activity.text === 'queued before stop');
    const turn = h.post(message);
    await enqueue(h.service.database.db, [{ idempotencyKey: 'in-flight', operation: 'send', conversationRefId: ref, activity: { type: 'message', text: 'queued before stop' } }], Date.now());
    h.service.outbox.wake();
    await Promise.all([replyArrived, sendArrived]);

    const url = h.service.url;
    await h.service.stop();
    expect((await turn).status).toBe(200);
    expect(h.connector.delivered().some((c) => c.activityId === message.id)).toBe(true);
    expect(h.connector.delivered().some((c) => c.activity.text === 'queued before stop')).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    await expect(h.service.database.ping()).rejects.toThrow();
  });
});
