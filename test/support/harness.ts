import { Writable } from 'node:stream';
import { parseConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { parseSlaPolicy } from '../../src/sla-config.js';
import { startService, type RunningService, type ServiceOptions } from '../../src/service.js';
import { FakeConnector } from '../fakes/connector.js';
import { FakeGraph } from '../fakes/graph.js';
import { FakeHubSpot } from '../fakes/hubspot.js';
import { FakeIdentityProvider, type ChannelTokenOptions } from '../fakes/identity-provider.js';
import type { ConnectorCall } from '../fakes/connector.js';
import { channelMessage, personalInstall, personalMessage, type ActivityContext, type Person } from './activities.js';

import { BOT_APP_ID, BOT_PASSWORD } from './identity.js';

export { BOT_APP_ID, BOT_PASSWORD };

/**
 * Tests run on a 24×7 calendar with targets long enough that nothing breaches while a test runs, so
 * results do not depend on the day of the week; SLA tests pass their own policy and clock.
 */
export const TEST_SLA_POLICY = (() => {
  const parsed = parseSlaPolicy(
    `calendars:
  always: { timeZone: UTC, hours: 24x7 }
defaultCalendar: always
defaultTier: standard
tiers:
  standard:
    P1: { firstResponse: 8h, resolution: 2bd }
    P2: { firstResponse: 8h, resolution: 3bd }
    P3: { firstResponse: 1bd, resolution: 5bd }
    P4: { firstResponse: 2bd, resolution: 10bd }
  premium:
    P1: { firstResponse: 4h, resolution: 1bd }
    P2: { firstResponse: 4h, resolution: 2bd }
    P3: { firstResponse: 8h, resolution: 3bd }
    P4: { firstResponse: 1bd, resolution: 5bd }
  vip:
    P1: { firstResponse: 2h, resolution: 8h }
    P2: { firstResponse: 2h, resolution: 1bd }
    P3: { firstResponse: 4h, resolution: 2bd }
    P4: { firstResponse: 8h, resolution: 3bd }
crmTiers: { platinum: vip, gold: premium }
warnings: [75%, 90%]
`,
    'test SLA policy',
  );
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.policy;
})();

/** Log lines the service wrote, parsed. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, any>> = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      this.raw.push(line);
      this.lines.push(JSON.parse(line));
    }
    callback();
  }
}

export const GRAPH_APP_ID = '7d0c7c4a-1b6f-4a4e-9a55-5a1d2c3b4e5f';
export const GRAPH_SECRET = 'graph-test-secret';
export const SUPPORT_MAILBOX = 'support@contoso.example';
export const HUBSPOT_SECRET = 'hubspot-app-client-secret';

export interface Harness extends ActivityContext {
  service: RunningService;
  identity: FakeIdentityProvider;
  connector: FakeConnector;
  /** The support mailbox, when started with `mail`. */
  graph: FakeGraph;
  /** The CRM, when started with `hubspot`. */
  hubspot: FakeHubSpot;
  /** Reads the mailbox now and waits until the round (and any it caused) finished. */
  syncMail(): Promise<void>;
  logs: LogCapture;
  config: Config;
  /** POSTs an activity to /api/messages with a valid channel token (or the given token options / header). */
  post(activity: unknown, auth?: ChannelTokenOptions | { header: string | null }): Promise<{ status: number; body: any }>;
  /** Sends a message as `person` (personal chat, or @mentioning the bot in a channel) and returns the bot's reply. */
  say(person: Person, text: string, where?: { channel?: string }): Promise<ConnectorCall>;
  /** Installs the bot for each person, as Teams would, and waits for each welcome. */
  install(...people: Person[]): Promise<void>;
  /** Starts another replica of the service on the same database and fakes (Postgres); stopped with the harness. */
  startReplica(options?: ServiceOptions): Promise<RunningService>;
  /** Starts the same service again on the same database (a restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real service with auth on, wired to a fake Bot Framework channel: the identity provider signs
 * the tokens the service validates and issues the token the service sends to the fake connector.
 */
export async function startHarness(
  options: { env?: Record<string, string>; service?: ServiceOptions; auth?: boolean; mail?: boolean; hubspot?: boolean; beforeStart?: (fakes: { identity: FakeIdentityProvider; graph: FakeGraph }) => void } = {},
): Promise<Harness> {
  const auth = options.auth ?? true;
  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
  const connector = await new FakeConnector(auth ? identity : undefined).start();
  const graph = options.mail ? await new FakeGraph(identity, { mailbox: SUPPORT_MAILBOX }).start() : (undefined as unknown as FakeGraph);
  if (options.mail) identity.registerApp(GRAPH_APP_ID, GRAPH_SECRET);
  const hubspot = options.hubspot ? await new FakeHubSpot().start() : (undefined as unknown as FakeHubSpot);
  const hubspotEnv: Record<string, string> = options.hubspot ? { HUBSPOT_ACCESS_TOKEN: hubspot.accessToken, HUBSPOT_BASE_URL: hubspot.baseUrl, HUBSPOT_CLIENT_SECRET: HUBSPOT_SECRET } : {};
  const mailEnv: Record<string, string> = options.mail
    ? {
        GRAPH_TENANT_ID: 'contoso',
        GRAPH_CLIENT_ID: GRAPH_APP_ID,
        GRAPH_CLIENT_SECRET: GRAPH_SECRET,
        SUPPORT_MAILBOX,
        GRAPH_BASE_URL: graph.baseUrl,
        AZURE_AUTHORITY_HOST: identity.authorityHost,
        GRAPH_POLL_INTERVAL: '1h',
      }
    : {};
  const parsed = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: ':memory:',
    LOG_LEVEL: 'debug',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...(auth
      ? {
          BOT_ID: BOT_APP_ID,
          BOT_PASSWORD,
          BOT_TYPE: 'MultiTenant',
          ToBotFromChannelOpenIdMetadataUrl: identity.openIdMetadataUrl,
          ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
          ToChannelFromBotLoginUrl: identity.loginUrl,
          ToChannelFromBotOAuthScope: 'https://api.botframework.com',
          // Emulator tokens are signed by the same fake provider, so refusing them is the setting's doing.
          ToBotFromEmulatorOpenIdMetadataUrl: identity.openIdMetadataUrl,
          // The fake connector listens on loopback; tests act for people in several tenants.
          ALLOWED_SERVICE_URLS: 'http://127.0.0.1:*',
          ALLOWED_TENANT_IDS: '*',
        }
      : {}),
    ...mailEnv,
    ...hubspotEnv,
    ...options.env,
  });
  if (!parsed.ok) throw new Error(`test config invalid: ${parsed.problems.join('; ')}`);
  const config = parsed.config;
  const logs = new LogCapture();
  const logger = createLogger(config.logLevel, logs);
  const serviceOptions: ServiceOptions = {
    sla: TEST_SLA_POLICY,
    ...options.service,
    // With a hand-moved clock the test sweeps when it means to (sweepOnce), not when a loop timing its
    // naps by that clock happens to wake.
    ...(options.service?.clock ? { sweeper: { automatic: false, ...options.service.sweeper } } : {}),
    outbox: { pollIntervalMs: 50, backoff: { baseMs: 20, capMs: 200, jitter: 0 }, ...options.service?.outbox },
    graph: { timeoutMs: 2_000, backoff: { baseMs: 20, capMs: 200, jitter: 0 }, ...options.service?.graph },
    mailSync: { backoff: { baseMs: 50, capMs: 500, jitter: 0 }, ...options.service?.mailSync },
    mailSender: { pollIntervalMs: 50, backoff: { baseMs: 20, capMs: 200, jitter: 0 }, ...options.service?.mailSender },
    hubspot: { backoff: { baseMs: 20, capMs: 200, jitter: 0 }, ...options.service?.hubspot },
    crm: { batchWindowMs: 30, backoff: { baseMs: 100, capMs: 300, jitter: 0 }, ...options.service?.crm },
  };
  let service: RunningService | undefined;
  // Graph notifies the public https URL a subscription names; here that is the service's own http port.
  if (options.mail) {
    graph.notificationTarget = (url) => {
      if (!service) throw new Error('the service is not listening yet');
      const target = new URL(url);
      return `${service.url}${target.pathname}${target.search}`;
    };
  }
  options.beforeStart?.({ identity, graph });
  service = await startService(config, logger, serviceOptions);
  let running: RunningService = service;
  const replicas: RunningService[] = [];

  const harness: Harness = {
    get service() {
      return running;
    },
    identity,
    connector,
    graph,
    hubspot,
    logs,
    config,
    serviceUrl: connector.serviceUrl,
    botAppId: BOT_APP_ID,
    async post(activity, authOptions) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (authOptions && 'header' in authOptions) {
        if (authOptions.header !== null) headers.authorization = authOptions.header;
      } else if (auth) {
        headers.authorization = identity.channelAuthorization(BOT_APP_ID, connector.serviceUrl, authOptions);
      }
      const response = await fetch(`${running.url}/api/messages`, {
        method: 'POST',
        headers,
        body: typeof activity === 'string' ? activity : JSON.stringify(activity),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body };
    },
    async say(person, text, where) {
      const activity = where?.channel ? channelMessage(this, text, { from: person, channel: where.channel }) : personalMessage(this, text, { from: person });
      const response = await this.post(activity);
      if (response.status !== 200) throw new Error(`posting "${text}" answered ${response.status}`);
      return (await connector.waitFor((c) => c.activityId === activity.id))[0]!;
    },
    async install(...people) {
      for (const person of people) {
        const install = personalInstall(this, 'add', person);
        await this.post(install);
        await connector.waitFor((c) => c.activityId === install.id);
      }
    },
    async syncMail() {
      const sync = running.mail?.sync;
      if (!sync) throw new Error('start the harness with { mail: true }');
      const target = sync.stats.roundsStarted + 1;
      sync.wake();
      const deadline = Date.now() + 10_000;
      while (!(sync.stats.rounds >= target && sync.stats.rounds === sync.stats.roundsStarted)) {
        if (Date.now() > deadline) throw new Error('the mail sync round did not finish');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async startReplica(extra) {
      const replica = await startService(config, logger, { ...serviceOptions, ...extra });
      replicas.push(replica);
      return replica;
    },
    async restart() {
      await running.stop();
      running = service = await startService(config, logger, serviceOptions);
    },
    async stop() {
      for (const replica of replicas) await replica.stop();
      await running.stop();
      await connector.stop();
      if (options.mail) await graph.stop();
      if (options.hubspot) await hubspot.stop();
      await identity.stop();
    },
  };
  return harness;
}
