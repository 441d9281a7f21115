import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { HttpServer } from './http/server.js';
import type { SlaPolicy } from './domain/sla.js';
import type { Logger } from './logger.js';
import { loadSlaPolicy } from './sla-config.js';
import { ActorDirectory } from './services/actors.js';
import { ConversationDirectory } from './services/conversation-directory.js';
import { SetupService } from './services/setup.js';
import { DigestService } from './services/digests.js';
import { EscalationService } from './services/escalations.js';
import { ReminderService } from './services/reminders.js';
import { SlaService } from './services/sla.js';
import { TicketCards } from './services/ticket-cards.js';
import { TicketService } from './services/tickets.js';
import { migrateToLatest, openDatabase, type Database } from './store/database.js';
import { createTeamsAdapter } from './teams/adapter.js';
import { createBot } from './teams/bot.js';
import { CommandRunner } from './teams/command-runner.js';
import { turnHelpers } from './teams/handlers/turn-services.js';
import { ConnectorDelivery } from './teams/connector-delivery.js';
import { createMessageEndpoint } from './teams/message-endpoint.js';
import { OutboxWorker, type OutboxWorkerOptions } from './workers/outbox-worker.js';
import { SlaSweeper, type SlaSweeperOptions } from './workers/sla-sweeper.js';

export interface ServiceOptions {
  clock?: () => number;
  /** The SLA policy (src/sla-config.ts); the built-in one when absent. */
  sla?: SlaPolicy;
  sweeper?: Partial<SlaSweeperOptions>;
  outbox?: Partial<OutboxWorkerOptions>;
}

export interface RunningService {
  readonly address: AddressInfo;
  readonly url: string;
  readonly database: Database;
  readonly outbox: OutboxWorker;
  readonly sweeper: SlaSweeper;
  /** Stops in reverse order of start: HTTP (drain turns), pending card records, sweeper, outbox (finish sends), database. */
  stop(): Promise<void>;
}

/**
 * The composition root: builds every part from the config, starts them in order, and returns a handle
 * that stops them in reverse. `src/main.ts` calls it for the real process; tests call it with their own
 * config, so the service under test is the one that ships.
 */
export async function startService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<RunningService> {
  const clock = options.clock ?? Date.now;
  const database = openDatabase(config.database);
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

    const db = database.db;
    const adapter = createTeamsAdapter(config.bot);
    const conversations = new ConversationDirectory(db, logger, clock);
    const actors = new ActorDirectory(db, config.roles, clock);
    const sla = options.sla ?? defaultSlaPolicy();
    const cards = new TicketCards(db, actors, sla, clock);
    // Services queue notifications in their transactions; the worker is told to look right after.
    const tickets = new TicketService({
      database,
      sla,
      clock,
      onEnqueued: () => outbox.wake(),
      onError: (error, what) => logger.error({ err: error }, what),
    });
    const escalations = new EscalationService({ database, policy: sla, tickets, clock, onEnqueued: () => outbox.wake() });
    const slaService = new SlaService({ database, policy: sla, escalations, clock, onEnqueued: () => outbox.wake() });
    const reminders = new ReminderService({ database, policy: sla, clock, onEnqueued: () => outbox.wake() });
    const runner = new CommandRunner({ tickets, cards, setup: new SetupService(db, clock), escalations, reminders, actors, db, clock });
    const turnServices = { db, logger, conversations, actors, tickets, sla: slaService, escalations, reminders, cards, runner };
    const bot = createBot({
      ...turnServices,
      helpersFor: (context, actor) => turnHelpers(context, actor, turnServices),
      adapter,
      botAppId: config.bot.appId,
      clock,
    });
    const outbox: OutboxWorker = new OutboxWorker({
      database,
      delivery: new ConnectorDelivery(adapter, config.bot.appId),
      cards,
      logger: logger.child({ worker: 'outbox' }),
      // Sends are timed by the wall clock (Teams' rate limits, Retry-After, leases), not by `clock`,
      // which is the service's idea of business time and may be a test's fake clock.
      options: options.outbox,
      onUnreachable: (conversationId) => conversations.unreachable(conversationId),
    });
    const digests = new DigestService({ database, policy: sla, clock, onEnqueued: () => outbox.wake() });
    const sweeper = new SlaSweeper({ database, sla: slaService, escalations, reminders, digests, logger: logger.child({ worker: 'sla' }), clock, options: options.sweeper });
    const http = new HttpServer({
      logger,
      messages: createMessageEndpoint(adapter, bot, logger),
      checkDatabase: () => database.ping(),
      maxBodyBytes: config.http.maxBodyBytes,
    });

    const address = await http.listen(config.http.port, config.http.host);
    outbox.start();
    sweeper.start();
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    logger.info(
      { port: address.port, host: address.address, database: database.dialect, auth: config.bot.appId ? 'on' : 'off (local mode)' },
      'service desk listening',
    );

    let stopping: Promise<void> | undefined;
    return {
      address,
      url: `http://${host}:${address.port}`,
      database,
      outbox,
      sweeper,
      stop: () =>
        (stopping ??= (async () => {
          logger.info('shutting down: draining requests');
          await http.close(config.shutdownTimeoutMs);
          await tickets.flush();
          await sweeper.stop();
          await outbox.stop();
          await database.close();
          logger.info('shut down cleanly');
        })()),
    };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}

function defaultSlaPolicy(): SlaPolicy {
  const loaded = loadSlaPolicy(undefined);
  if (!loaded.ok) throw new Error(`the built-in SLA policy is invalid: ${loaded.problems.join('; ')}`);
  return loaded.policy;
}
