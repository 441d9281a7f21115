import { FakeConnector } from '../test/fakes/connector.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { personalMessage, somebody } from '../test/support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';
import { startBot } from './lib/bots.js';
import { formatLoad, median, runLoad, type LoadResult } from './lib/load.js';

/**
 * Turn throughput of a requester's free text (the deterministic path: their open tickets and the chat's
 * focus read, the message kept as pending, the "Open a ticket with this?" card) against `help` on the
 * same desk, over HTTP with auth on. Each concurrent sender is a requester of their own, as in real
 * use (one personal chat each). Rounds alternate `help` and free text; the median round's ratio is
 * reported.
 */
export async function benchFreeText(options: { durationMs: number; concurrency: number; rounds: number }) {
  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
  const connector = await new FakeConnector(identity).start();
  const ctx = { serviceUrl: connector.serviceUrl, botAppId: BOT_APP_ID };
  const authorization = identity.channelAuthorization(BOT_APP_ID, connector.serviceUrl);
  const people = Array.from({ length: options.concurrency }, () => somebody('Requester'));
  const bodies = (text: string) => people.map((from) => JSON.stringify(personalMessage(ctx, text, { from })));
  const help = bodies('help');
  const freeText = bodies('The printer on the third floor jams on every page since this morning');
  const send = (url: string, messages: string[]) => async (worker: number) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: messages[worker % messages.length] });
    await response.arrayBuffer();
    return response.status;
  };

  const desk = await startBot('desk', identity, {});
  try {
    await runLoad(send(desk.url, help), { concurrency: options.concurrency, durationMs: 1_000 });
    await runLoad(send(desk.url, freeText), { concurrency: options.concurrency, durationMs: 1_000 });
    const rounds: Array<{ help: LoadResult; freeText: LoadResult; ratio: number }> = [];
    for (let i = 0; i < options.rounds; i++) {
      const h = await runLoad(send(desk.url, help), options);
      const f = await runLoad(send(desk.url, freeText), options);
      rounds.push({ help: h, freeText: f, ratio: f.perSecond / h.perSecond });
    }
    const middle = rounds.find((r) => r.ratio === median(rounds.map((x) => x.ratio)))!;
    return { ...middle, ratios: rounds.map((r) => r.ratio), options };
  } finally {
    desk.stop();
    await connector.stop();
    await identity.stop();
  }
}

export function reportFreeText(r: Awaited<ReturnType<typeof benchFreeText>>): string {
  return [
    `${r.options.rounds} rounds of ${r.options.durationMs / 1000} s, ${r.options.concurrency} requesters with a turn in flight each; the median round (ratios of all rounds: ${r.ratios.map((x) => x.toFixed(2)).join(', ')})`,
    formatLoad('service desk `help`', r.help),
    formatLoad('requester free text (offer card)', r.freeText),
    `free text / help throughput ratio: ${r.ratio.toFixed(2)}  (goal ≥ 0.80)`,
  ].join('\n');
}
