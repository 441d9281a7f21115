import { FakeConnector } from '../test/fakes/connector.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { FakeOpenAi } from '../test/fakes/openai.js';
import { cardAction, megan, personalMessage } from '../test/support/activities.js';
import { createdReference } from '../test/support/factories.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';
import { startBot } from './lib/bots.js';
import { formatLoad, runLoad, type LoadResult } from './lib/load.js';

/**
 * The assistant never holds a turn past Teams' 5-second invoke limit: p99 latency of the Summary button
 * (an `adaptiveCard/action` invoke, auth on, in its own process) while the OpenAI-compatible endpoint
 * takes 10 s to answer, against the same button with an endpoint that answers at once, in the same run.
 * Counts how many slow-endpoint turns answered without the assistant (the "did not answer in time" card).
 */
export async function benchAssistant(options: { durationMs: number; concurrency: number; endpointDelayMs: number }) {
  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
  const connector = await new FakeConnector(identity).start();
  const ai = await new FakeOpenAi().start();
  const ctx = { serviceUrl: connector.serviceUrl, botAppId: BOT_APP_ID };
  const authorization = identity.channelAuthorization(BOT_APP_ID, connector.serviceUrl);
  const desk = await startBot('desk', identity, { AGENT_IDS: megan.aadObjectId, AI_ENDPOINT: ai.endpoint, AI_API_KEY: 'bench-key', AI_DAILY_TOKEN_BUDGET: '1000000000' });
  try {
    const post = async (activity: unknown) => {
      const response = await fetch(desk.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(activity) });
      return { status: response.status, text: await response.text() };
    };
    const opening = personalMessage(ctx, 'new Bench: VPN drops every ten minutes', { from: megan });
    await post(opening);
    const [created] = await connector.waitFor((c) => c.activityId === opening.id);
    const ticket = Number(createdReference(created!).split('-')[1]);
    const withoutAssistant = { count: 0 };
    const press = (count: boolean) => async () => {
      const answer = await post(cardAction(ctx, { verb: 'assistant.summary', data: { ticket }, from: megan }));
      if (count && answer.text.includes('did not answer in time')) withoutAssistant.count += 1;
      return answer.status;
    };
    // Warm up (JIT, token caches), then the prompt endpoint as the baseline, then the 10-second one.
    ai.delayMs = 0;
    await runLoad(press(false), { concurrency: options.concurrency, durationMs: 1_000 });
    const prompt: LoadResult = await runLoad(press(false), options);
    ai.delayMs = options.endpointDelayMs;
    const slow: LoadResult = await runLoad(press(true), options);
    return { prompt, slow, withoutAssistant: withoutAssistant.count, abandoned: ai.abandoned, options };
  } finally {
    desk.stop();
    await ai.stop();
    await connector.stop();
    await identity.stop();
  }
}

export function reportAssistant(r: Awaited<ReturnType<typeof benchAssistant>>): string {
  return [
    `Summary button (adaptiveCard/action invoke), ${r.options.concurrency} in flight for ${r.options.durationMs / 1000} s each; AI_TIMEOUT at its default`,
    formatLoad('endpoint answers at once', r.prompt),
    formatLoad(`endpoint takes ${r.options.endpointDelayMs / 1000} s`, r.slow),
    `slow endpoint: ${r.withoutAssistant} of ${r.slow.requests} turns answered without the assistant; ${r.abandoned} requests to the endpoint abandoned at the time limit`,
    `p99 with the ${r.options.endpointDelayMs / 1000} s endpoint: ${(r.slow.p99 / 1000).toFixed(2)} s  (goal < 5 s, Teams' invoke limit)`,
  ].join('\n');
}
