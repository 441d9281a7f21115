import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphMailClient } from '../../../src/integrations/graph/mail-client.js';
import { composeEml } from '../../fakes/mail-message.js';
import { megan } from '../../support/activities.js';
import { startHarness, type Harness } from '../../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const isDelta = (method: string, path: string) => method === 'GET' && path.endsWith('/messages/delta');
const subjects = async () => (await h.service.database.db.selectFrom('tickets').select('subject').orderBy('id').execute()).map((t) => t.subject);

describe('reading the mailbox when Graph misbehaves', () => {
  it('waits what Retry-After asks on a 429, never less', async () => {
    h = await startHarness({ mail: true });
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Throttled', text: 'x' }));
    h.graph.fail(isDelta, { status: 429, retryAfter: 1 });
    await h.syncMail();
    const deltas = h.graph.requests.filter((r) => isDelta(r.method, r.path));
    expect(deltas.map((r) => r.status).slice(0, 2)).toEqual([429, 200]);
    expect(deltas[1]!.at - deltas[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(await subjects()).toEqual(['Throttled']);
  });

  it('retries 503s, timeouts and a failing token endpoint', async () => {
    h = await startHarness({
      mail: true,
      service: { graph: { timeoutMs: 300 } },
      // The token endpoint fails as the service starts: its first reads of the mailbox need a token.
      beforeStart: ({ identity }) => identity.tokenFailures.push({ status: 500, error: 'temporarily_unavailable' }, { status: 500, error: 'temporarily_unavailable' }),
    });
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Flaky', text: 'x' }));
    h.graph.fail(isDelta, { status: 503 });
    h.graph.fail(isDelta, { status: 'hang' });
    await h.syncMail();
    expect(await subjects()).toEqual(['Flaky']);
    expect(h.service.mail!.sync.stats.lastError).toBeUndefined();
    expect(h.identity.tokenFailures).toEqual([]);
    expect(h.graph.requests.filter((r) => isDelta(r.method, r.path)).map((r) => r.status)).toContain(503);
  });

  it('keeps the cursor when Graph stays down, and catches up once it is back', async () => {
    h = await startHarness({ mail: true });
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'During the outage', text: 'x' }));
    h.graph.fail(isDelta, { status: 503 }, 10);
    await h.syncMail();
    expect(h.service.mail!.sync.stats.lastError).toMatch(/503/);
    expect(await subjects()).toEqual([]);
    h.graph.faults.length = 0;
    await expect.poll(subjects, { timeout: 5_000 }).toEqual(['During the outage']);
  });

  it('re-reads a page fetched but not committed before a crash, without duplicates', async () => {
    h = await startHarness({ mail: true });
    const db = () => h.service.database.db;
    for (const n of [1, 2, 3]) await h.graph.deliver(composeEml({ from: `c${n}@fabrikam.example`, subject: `Before the crash ${n}`, text: 'x' }));
    await h.syncMail();
    const committed = await db().selectFrom('mail_state').selectAll().where('key', 'like', 'delta:%').executeTakeFirstOrThrow();
    for (const n of [4, 5]) await h.graph.deliver(composeEml({ from: `c${n}@fabrikam.example`, subject: `Before the crash ${n}`, text: 'x' }));
    await h.syncMail();
    // The process died after committing these messages but before the cursor moved past them.
    await db().updateTable('mail_state').set({ value: committed.value }).where('key', '=', committed.key).execute();
    await h.restart();
    await h.syncMail();
    expect(await subjects()).toEqual([1, 2, 3, 4, 5].map((n) => `Before the crash ${n}`));
  });

  it('records an unreadable message as poison, skips it, and goes on with the rest', async () => {
    h = await startHarness({ mail: true });
    const good = await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Good one', text: 'x' }));
    h.graph.deliverMessage({ ...good, id: 'AAMkBroken', internetMessageId: 42, from: 'not an address' } as never);
    await h.graph.deliver(composeEml({ from: 'b@fabrikam.example', subject: 'After the broken one', text: 'x' }));
    await h.syncMail();
    await h.syncMail();
    expect(await subjects()).toEqual(['Good one', 'After the broken one']);
    const poison = await h.service.database.db.selectFrom('mail_messages').selectAll().where('disposition', '=', 'poison').execute();
    expect(poison).toHaveLength(1);
    expect(poison[0]).toMatchObject({ internet_message_id: '<unreadable.AAMkBroken@service-desk.invalid>', mailbox_id: 'AAMkBroken' });
    expect(poison[0]!.reason).toMatch(/internetMessageId/);
    expect(h.logs.lines.some((l) => l.msg === 'skipped an unreadable email (recorded as poison)')).toBe(true);
  });
});

describe('sending mail when Graph misbehaves', () => {
  it('delays a reply through an outage and sends it once Graph is back', async () => {
    h = await startHarness({ mail: true, env: { AGENT_IDS: megan.aadObjectId, MAIL_ACKNOWLEDGE: 'false' } });
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Outage reply', text: 'x' }));
    await h.syncMail();
    const ticket = await h.service.database.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
    h.graph.fail((m, p) => m === 'POST' && p.endsWith('/createReply'), { status: 503 }, 8);
    await h.say(megan, `reply ${ticket.reference} We are on it.`);
    await expect.poll(async () => (await h.service.database.db.selectFrom('mail_outbox').select('attempts').executeTakeFirstOrThrow()).attempts).toBeGreaterThanOrEqual(1);
    expect(h.graph.sent).toHaveLength(0);
    const [sent] = await h.graph.waitForSent(1, 8_000);
    expect(sent!.subject).toBe(`RE: Outage reply [${ticket.reference}]`);
    await expect.poll(() => h.service.database.db.selectFrom('mail_outbox').select(['status', 'internet_message_id']).executeTakeFirstOrThrow()).toEqual({ status: 'sent', internet_message_id: sent!.internetMessageId });
    expect(h.graph.sent).toHaveLength(1);
  });

  it('dead-letters mail that keeps failing instead of retrying forever', async () => {
    h = await startHarness({ mail: true, service: { mailSender: { maxAttempts: 3 } } });
    h.graph.fail((m, p) => m === 'POST' && p.endsWith('/sendMail'), { status: 500 }, 100);
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Never acknowledged', text: 'x' }));
    await h.syncMail();
    await expect.poll(async () => (await h.service.database.db.selectFrom('mail_outbox').select(['status', 'attempts']).executeTakeFirstOrThrow()), { timeout: 8_000 }).toEqual({ status: 'dead', attempts: 3 });
    expect(h.logs.lines.some((l) => /dead-lettered/.test(l.msg))).toBe(true);
  });
});

describe('a send Graph took but whose answer was lost is not sent twice', () => {
  const isSendMail = (method: string, path: string) => method === 'POST' && path.endsWith('/sendMail');
  const isSendDraft = (method: string, path: string) => method === 'POST' && /\/messages\/[^/]+\/send$/.test(path);
  const outbox = () => h.service.database.db.selectFrom('mail_outbox').select(['status', 'internet_message_id', 'attempts']).executeTakeFirstOrThrow();
  const sentItemsLookups = () => h.graph.requests.filter((r) => r.method === 'GET' && /\/mailFolders\/sentitems\/messages$/i.test(r.path));
  const foundEarlier = () => h.logs.lines.filter((l) => l.msg === 'email sent by an earlier attempt; not sent again');

  it.each(['accept-then-hang', 'accept-then-504'] as const)('an acknowledgement whose sendMail was taken (%s) goes out once and ends sent', async (lost) => {
    h = await startHarness({ mail: true, service: { graph: { timeoutMs: 300 } } });
    h.graph.fail(isSendMail, { status: lost });
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Lost answer', text: 'x' }));
    await h.syncMail();
    const [ack] = await h.graph.waitForSent(1);
    await expect.poll(outbox, { timeout: 8_000 }).toEqual({ status: 'sent', internet_message_id: ack!.internetMessageId, attempts: 2 });
    expect(h.graph.sent).toHaveLength(1);
    // The second attempt found it in Sent Items, by its Message-ID, instead of sending it again.
    expect(sentItemsLookups().map((r) => new URLSearchParams(r.query).get('$filter'))).toEqual([`internetMessageId eq '${ack!.internetMessageId}'`]);
    expect(foundEarlier()).toHaveLength(1);
  });

  it("an agent's reply whose send was taken and its answer lost goes out once and ends sent", async () => {
    h = await startHarness({ mail: true, env: { AGENT_IDS: megan.aadObjectId, MAIL_ACKNOWLEDGE: 'false' }, service: { graph: { timeoutMs: 300 } } });
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Reply lost', text: 'x' }));
    await h.syncMail();
    const ticket = await h.service.database.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
    h.graph.fail(isSendDraft, { status: 'accept-then-hang' });
    await h.say(megan, `reply ${ticket.reference} We are on it.`);
    const [reply] = await h.graph.waitForSent(1);
    expect(reply!.via).toBe('reply');
    await expect.poll(outbox, { timeout: 8_000 }).toEqual({ status: 'sent', internet_message_id: reply!.internetMessageId, attempts: 2 });
    expect(h.graph.sent).toHaveLength(1);
    expect(sentItemsLookups()).toHaveLength(1);
    expect(foundEarlier()).toHaveLength(1);
    // One draft, made once: the second attempt did not make another.
    expect(h.graph.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/createReply'))).toHaveLength(1);
  });

  it('an acknowledgement taken by Graph just before the process died is not sent again when it is picked up again', async () => {
    h = await startHarness({ mail: true });
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Crash after send', text: 'x' }));
    await h.syncMail();
    const [ack] = await h.graph.waitForSent(1);
    await expect.poll(async () => (await outbox()).status).toBe('sent');
    // As a crash leaves it: Graph took the mail, and the process died before marking it sent (its
    // lease lapsed since), so no attempt was counted. The sender picks it up again at its next poll.
    await h.service.database.db.updateTable('mail_outbox').set({ status: 'pending', attempts: 0, sent_at: null, next_attempt_at: Date.now() }).execute();
    await expect.poll(outbox, { timeout: 8_000 }).toEqual({ status: 'sent', internet_message_id: ack!.internetMessageId, attempts: 1 });
    expect(h.graph.sent).toHaveLength(1);
    expect(foundEarlier()).toHaveLength(1);
  });

  it('a plain 503 (not taken) is retried by the sender, after looking, and sent once', async () => {
    h = await startHarness({ mail: true, service: { graph: { timeoutMs: 300 } } });
    h.graph.fail(isSendMail, { status: 503 });
    await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject: 'Not taken', text: 'x' }));
    await h.syncMail();
    const [ack] = await h.graph.waitForSent(1, 8_000);
    await expect.poll(outbox, { timeout: 8_000 }).toEqual({ status: 'sent', internet_message_id: ack!.internetMessageId, attempts: 2 });
    expect(h.graph.sent).toHaveLength(1);
    expect(h.graph.requests.filter((r) => isSendMail(r.method, r.path)).map((r) => r.status)).toEqual([503, 202]);
    expect(sentItemsLookups().map((r) => r.status)).toEqual([200]);
    expect(foundEarlier()).toHaveLength(0);
  });
});

describe('the Graph client for sends', () => {
  it('finds a Message-ID in Sent Items exactly, whatever characters it holds', async () => {
    h = await startHarness({ mail: true });
    const client = h.service.mail!.client;
    // Quotes end an OData string literal unless doubled; + & # % change a URL unless percent-encoded.
    const odd = "<o'brien+1&x=2#y%20z@fabrikam.example>";
    h.graph.sent.push({ via: 'mime', to: ['a@fabrikam.example'], subject: 'Odd id', internetMessageId: odd, inReplyTo: undefined, references: undefined, headers: [], html: undefined, text: 'x', at: Date.now() });
    expect(await client.sentMessageExists(odd)).toBe(true);
    expect(await client.sentMessageExists("<o'brien 1@fabrikam.example>")).toBe(false);
    expect(await client.sentMessageExists('<never-sent@contoso.example>')).toBe(false);
    expect(h.graph.requests.filter((r) => /sentitems/i.test(r.path)).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('tries a send again at once when the connection was refused, as nothing reached Graph', async () => {
    h = await startHarness({ mail: true });
    // A port nobody listens on: connections to it are refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const client = new GraphMailClient({ ...h.service.mail!.client.config, baseUrl: `https://localhost:${port}` }, { attempts: 3, timeoutMs: 2_000, backoff: { baseMs: 10, capMs: 20, jitter: 0 } });
    await expect(client.sendMime('To: a@fabrikam.example\r\nSubject: x\r\n\r\nx\r\n')).rejects.toMatchObject({ failure: 'transient', details: { code: 'RequestNotSent' } });
    expect(client.requests).toBe(3);
  });
});
