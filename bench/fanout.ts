import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import { rememberConversation } from '../src/store/conversation-references.js';
import { enqueue } from '../src/store/outbox.js';
import { FakeConnector } from '../test/fakes/connector.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { TENANT_ID } from '../test/support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';
import { startBot } from './lib/bots.js';

/**
 * 2,000 cards to 100 conversations of one tenant through the fake connector enforcing Teams' limits
 * (7/1 s, 8/2 s, 60/30 s per conversation; 50/s per tenant): the achieved rate against the rate the
 * limits allow (here the tenant's 50/s binds), 429s seen, and whether any card was lost or doubled.
 */
export async function benchFanOut(options: { cards: number; conversations: number }) {
  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
  const connector = await new FakeConnector(identity).start();
  connector.enforceTeamsLimits = true;
  const path = join(mkdtempSync(join(tmpdir(), 'bench-fanout-')), 'desk.db');
  // Migrate first, so the bot starts on a ready database and the rows below are waiting for it.
  const database = openDatabase({ kind: 'sqlite', path });
  await migrateToLatest(database.db);
  const refs: number[] = [];
  for (let i = 0; i < options.conversations; i++) {
    const conversationId = `a:fanout-${i}`;
    const reference = { conversation: { id: conversationId, conversationType: 'personal', tenantId: TENANT_ID }, bot: { id: `28:${BOT_APP_ID}` }, user: { id: `29:user-${i}` }, channelId: 'msteams', serviceUrl: connector.serviceUrl };
    refs.push((await rememberConversation(database.db, { conversationId, kind: 'personal', tenantId: TENANT_ID, teamId: null, userTeamsId: `29:user-${i}`, userAadObjectId: null, serviceUrl: connector.serviceUrl, reference }, Date.now())).id);
  }
  const bot = await startBot('desk', identity, { DATABASE_URL: `sqlite:${path}` });
  try {
    const t0 = Date.now();
    await enqueue(
      database.db,
      Array.from({ length: options.cards }, (_, i) => ({
        idempotencyKey: `fanout-${i}`,
        operation: 'send' as const,
        conversationRefId: refs[i % refs.length]!,
        activity: { type: 'message', summary: `SLA warning ${i}`, text: `card ${i}` },
      })),
      Date.now(),
    );
    await connector.waitFor((c) => c.operation === 'send' && String(c.activity.text).startsWith('card '), { count: options.cards, timeoutMs: 600_000 });
    const elapsed = (Date.now() - t0) / 1000;
    const delivered = connector.delivered('send').filter((c) => String(c.activity.text).startsWith('card '));
    const perCard = new Map<string, number>();
    for (const c of delivered) perCard.set(c.activity.text, (perCard.get(c.activity.text) ?? 0) + 1);
    const doubled = [...perCard.values()].filter((n) => n > 1).length;
    // The last sends are marked sent just after the connector answers them.
    let dead = await database.db.selectFrom('outbox').select('id').where('status', '!=', 'sent').execute();
    for (let i = 0; i < 50 && dead.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      dead = await database.db.selectFrom('outbox').select('id').where('status', '!=', 'sent').execute();
    }
    return { cards: options.cards, elapsed, rate: options.cards / elapsed, allowed: 50, throttled: connector.throttled.length, doubled, missing: options.cards - perCard.size, unsent: dead.length };
  } finally {
    bot.stop();
    await database.close();
    await connector.stop();
    await identity.stop();
  }
}

export function reportFanOut(r: Awaited<ReturnType<typeof benchFanOut>>): string {
  return [
    `${r.cards.toLocaleString('en')} cards to 100 conversations in ${r.elapsed.toFixed(1)} s: ${r.rate.toFixed(1)}/s against ${r.allowed}/s allowed = ${((r.rate / r.allowed) * 100).toFixed(0)}% (goal ≥ 90%)`,
    `429s from the connector: ${r.throttled}; cards missing: ${r.missing}; sent twice: ${r.doubled}; rows not sent: ${r.unsent}`,
  ].join('\n');
}
