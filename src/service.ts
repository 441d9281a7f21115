import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { HttpServer } from './http/server.js';
import type { SlaPolicy } from './domain/sla.js';
import type { Logger } from './logger.js';
import { loadSlaPolicy } from './sla-config.js';
import { AccessPolicy } from './services/access.js';
import { ActorDirectory } from './services/actors.js';
import { ConversationDirectory } from './services/conversation-directory.js';
import { SetupService } from './services/setup.js';
import { DigestService } from './services/digests.js';
import { ReportService } from './services/reports.js';
import { EscalationService } from './services/escalations.js';
import { ReminderService } from './services/reminders.js';
import { SlaService } from './services/sla.js';
import { CardCopyRecorder } from './services/card-copies.js';
import { TicketCards } from './services/ticket-cards.js';
import { TicketQueries } from './services/ticket-queries.js';
import { TicketService } from './services/tickets.js';
import { lockForOneService, migrateToLatest, openDatabase, type Database } from './store/database.js';
import { createTeamsAdapter } from './teams/adapter.js';
import { createBot } from './teams/bot.js';
import { CommandRunner } from './teams/command-runner.js';
import { RequestConversations } from './services/request-conversations.js';
import { turnHelpers } from './teams/handlers/turn-services.js';
import { ConnectorDelivery } from './teams/connector-delivery.js';
import { createMessageEndpoint } from './teams/message-endpoint.js';
import { OutboxWorker, type OutboxWorkerOptions } from './workers/outbox-worker.js';
import { SlaSweeper, type SlaSweeperOptions } from './workers/sla-sweeper.js';
import { GraphMailClient, type GraphClientOptions } from './integrations/graph/mail-client.js';
import { MailIntake } from './services/mail/intake.js';
import { loadAckTemplate, OutgoingMail } from './services/mail/outgoing.js';
import { MailSender, type MailSenderOptions } from './workers/mail-sender.js';
import { MailSync, type MailSyncOptions } from './workers/mail-sync.js';
import { HubSpotClient, type HubSpotClientOptions } from './integrations/hubspot/client.js';
import { CrmEnrichment, DEFAULT_CRM_OPTIONS, type CrmOptions } from './services/crm.js';
import { rememberReceipt } from './store/crm.js';
import { releaseAllLeases } from './store/leases.js';
import { EnrichmentWorker } from './workers/enrichment.js';
import { ReplicaHeartbeat } from './workers/replica-heartbeat.js';
import { Metrics, sendResult } from './metrics.js';
import { HealthChecks } from './services/health.js';
import { Retention } from './services/retention.js';
import { botTokenProbe } from './teams/bot-token-probe.js';
import { outboxDepth } from './store/outbox.js';
import { mailOutboxDepth } from './store/mail.js';
import { escalationCounts, openTicketCounts, slaEventCounts } from './store/reports.js';
import { randomBytes } from 'node:crypto';
import { TicketFiles } from './services/attachments/ticket-files.js';
import { AttachmentStores } from './services/attachments/stores.js';
import { openAttachmentStores } from './integrations/storage/open.js';
import { buildTargets } from './integrations/notify/build-targets.js';
import { SlackApi } from './integrations/slack/client.js';
import { SlackEndpoint } from './http/slack.js';
import { SlackInteractions } from './services/slack-interactions.js';
import { SlackPeople } from './services/slack-people.js';
import type { NotifyConfig } from './notify-config.js';
import { DeskEventRecorder } from './services/desk-events.js';
import { IntegrationDirectory } from './services/integrations.js';
import { EventDeliveryWorker, type EventDeliveryOptions } from './workers/event-delivery-worker.js';
import { ClamdClient } from './integrations/clamd/client.js';
import { AttachmentScanning, type ScanOptions } from './services/attachments/scanning.js';
import { ScanWorker } from './workers/scan-worker.js';
import { IssueLinks, DEFAULT_TRACKER_SETTINGS } from './services/issue-links.js';
import { IssuePoller } from './workers/issue-poller.js';
import { buildTrackers } from './integrations/trackers/build.js';
import type { PeerOptions } from './integrations/outbound/peer.js';
import { Assistant } from './services/assistant.js';
import { OpenAiCompatibleClient } from './integrations/ai/openai-compatible.js';

export interface ServiceOptions {
  clock?: () => number;
  /** The SLA policy (src/sla-config.ts); the built-in one when absent. */
  sla?: SlaPolicy;
  sweeper?: Partial<SlaSweeperOptions>;
  outbox?: Partial<OutboxWorkerOptions>;
  graph?: Partial<GraphClientOptions>;
  mailSync?: Partial<MailSyncOptions>;
  mailSender?: Partial<MailSenderOptions>;
  hubspot?: Partial<HubSpotClientOptions>;
  crm?: Partial<CrmOptions>;
  /** How long one send to Teams may take before it is given up and retried (default 15 s). */
  deliveryTimeoutMs?: number;
  /** How long all of one message's files may take to download (default 10 s: the turn waits). */
  filesTurnBudgetMs?: number;
  /** The notification rules and integrations (src/notify-config.ts); none when absent. */
  notify?: NotifyConfig;
  /** The event delivery worker's timing (tests shorten its backoff). */
  events?: Partial<EventDeliveryOptions>;
  /** Where Slack's response_urls may point (default https://hooks.slack.com/; tests use their fake's). */
  slackResponseUrlBase?: string;
  /** The malware scan worker's timing (tests shorten its backoff). */
  scan?: Partial<ScanOptions>;
  /** Calls to Linear and Jira (tests shorten the backoff). */
  trackers?: Partial<PeerOptions>;
}

export interface RunningService {
  readonly address: AddressInfo;
  readonly url: string;
  readonly database: Database;
  readonly outbox: OutboxWorker;
  readonly sweeper: SlaSweeper;
  /** Email workers, when email is configured. */
  readonly mail: { sync: MailSync; sender: MailSender; intake: MailIntake; client: GraphMailClient } | undefined;
  /** The one write path for tickets (scripts and tests create tickets through it too). */
  readonly tickets: TicketService;
  readonly health: HealthChecks;
  readonly retention: Retention | undefined;
  /** Attachment contents: the store new files go to, and every store with settings (read from). */
  readonly attachmentStores: AttachmentStores;
  readonly metrics: Metrics;
  /** CRM enrichment, when HubSpot is configured. */
  readonly crm: { enrichment: CrmEnrichment; worker: EnrichmentWorker; client: HubSpotClient } | undefined;
  /** Ticket events to webhooks, PagerDuty and Slack: the delivery worker and the admins' view. */
  readonly events: { worker: EventDeliveryWorker; integrations: IntegrationDirectory };
  /** The optional AI assistant, when AI_ENDPOINT (or Azure OpenAI) is set. */
  readonly assistant: Assistant | undefined;
  /** Malware scanning of kept files, when CLAMD_HOST is set. */
  readonly scanning: { service: AttachmentScanning; worker: ScanWorker; client: ClamdClient } | undefined;
  /** Linked Linear/Jira issues, when a tracker is connected: the use cases and the poller (tests run a round). */
  readonly issues: { links: IssueLinks; poller: IssuePoller } | undefined;
  /** Stops in reverse order of start: HTTP (drain turns), pending card records, sweeper, outbox (finish sends), database. */
  stop(): Promise<void>;
}

/**
 * The composition root: builds every part from the config, starts them in order, and returns a handle
 * that stops them in reverse. `src/main.ts` calls it for the real process; tests call it with their own
 * config, so the service under test is the one that ships. Its length is the wiring of every part in
 * start order; split up, that order would no longer read in one place.
 */
export async function startService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<RunningService> {
  const clock = options.clock ?? Date.now;
  const unlock = lockForOneService(config.database);
  let database: Database;
  try {
    database = openDatabase(config.database);
  } catch (error) {
    unlock();
    throw error;
  }
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    if (database.dialect === 'sqlite') {
      const freed = await releaseAllLeases(database.db);
      if (freed > 0) logger.warn({ freed }, 'took over work the previous process had claimed when it stopped');
    }

    const db = database.db;
    const adapter = createTeamsAdapter(config.bot);
    const conversations = new ConversationDirectory(db, logger, clock);
    const actors = new ActorDirectory(db, config.roles, clock);
    const sla = options.sla ?? defaultSlaPolicy();
    const access = new AccessPolicy(db, actors, { requesterMaxPriority: config.roles.requesterMaxPriority });
    // The optional AI assistant (AI_ENDPOINT): built once the ticket service exists; cards ask it lazily.
    let assistant: Assistant | undefined;
    const cards = new TicketCards(db, access, sla, clock, undefined, config.ai ? { pendingTriage: (id) => assistant!.pendingTriage(id) } : undefined);
    const outgoing = config.graph
      ? new OutgoingMail({
          acknowledge: config.mail.acknowledge,
          ackTemplate: loadAckTemplate(config.mail.ackTemplatePath),
          ackMaxPerHour: config.mail.ackMaxPerHour,
          ackMaxPerHourTotal: config.mail.ackMaxPerHourTotal,
          ownAddresses: [config.graph.mailbox],
        })
      : undefined;
    // Its id names every lease this replica's workers take: when it stops beating, the others take its
    // work over at once (woken by theirs), not when the leases run out.
    const heartbeat = new ReplicaHeartbeat({
      database,
      logger,
      onCount: (replicas) => {
        outbox.shareTenantBudget(replicas);
        eventWorker.shareLimits(replicas);
      },
      onDeath: () => {
        outbox.wake();
        sweeperRef?.wake();
        mail?.sync.wake();
        mail?.sender.wake();
        scanning?.worker.wake();
      },
    });
    const owner = heartbeat.id;
    // Services queue notifications (cards, mail) in their transactions; the workers are told to look right after.
    const wake = () => {
      outbox.wake();
      eventWorker.wake();
      mail?.sender.wake();
      crm?.worker.wake();
      // A change may bring an SLA check, reminder or escalation timeout closer than the sweeper's nap.
      sweeperRef?.recheck();
    };
    let sweeperRef: SlaSweeper | undefined;
    let crm: RunningService['crm'];
    let metricsOf: Metrics | undefined;
    // Ticket events leaving the desk: the rules route each event, in its change's transaction, to
    // integrations (queued for the event worker) and Teams channels (queued for the outbox).
    const notify = options.notify ?? { integrations: [], rules: [], source: '(none)' };
    const slackApi = config.notify.slack ? new SlackApi({ token: config.notify.slack.botToken, apiUrl: config.notify.slack.apiUrl }) : undefined;
    const targets = buildTargets(notify.integrations, config.notify, { ...(slackApi ? { slack: slackApi } : {}) });
    const events = new DeskEventRecorder({ rules: notify.rules, integrations: new Map([...targets].map(([name, t]) => [name, { followsTickets: t.target.followsTickets }])), policy: sla });
    const eventWorker = new EventDeliveryWorker({
      database,
      targets,
      logger: logger.child({ worker: 'events' }),
      options: options.events,
      owner: heartbeat.id,
      onResult: (target, outcome) => metricsOf?.eventDeliveries.inc({ target, outcome }),
    });
    const integrations = new IntegrationDirectory({ db, targets, rules: notify.rules, source: notify.source, worker: eventWorker, clock });
    const tickets = new TicketService({
      events,
      database,
      sla,
      clock,
      onEnqueued: wake,
      logger,
      requesterMaxPriority: config.roles.requesterMaxPriority,
      ...(outgoing ? { replies: outgoing } : {}),
      // Built below (it needs this service to apply what it finds); new tickets only read its cache.
      ...(config.hubspot ? { crm: { atCreation: (tx, requesterId, now) => crm!.enrichment.atCreation(tx, requesterId, now) } } : {}),
      // A new ticket's triage suggestion is worked out in the background, never in the turn that opened it.
      ...(config.ai ? { onCreated: (ticket: { id: number }) => void assistant?.triageNew(ticket.id) } : {}),
    });
    if (config.ai) {
      assistant = new Assistant({ db, client: new OpenAiCompatibleClient(config.ai, config.ai.timeoutMs), config: config.ai, tickets, logger: logger.child({ part: 'assistant' }), clock });
      logger.info({ model: config.ai.model, timeoutMs: config.ai.timeoutMs, dailyTokenBudget: config.ai.dailyTokenBudget, internalNotes: config.ai.includeInternalNotes }, 'AI assistant on');
    }
    if (config.hubspot) {
      const client = new HubSpotClient(config.hubspot, options.hubspot);
      const enrichment = new CrmEnrichment({
        database,
        client,
        tickets,
        policy: sla,
        options: { ...DEFAULT_CRM_OPTIONS, tierProperty: config.hubspot.tierProperty, cacheTtlMs: config.hubspot.cacheTtlMs, ticketSync: config.hubspot.ticketSync, ...options.crm },
        logger: logger.child({ worker: 'crm' }),
        clock,
      });
      crm = { enrichment, client, worker: new EnrichmentWorker({ crm: enrichment, logger: logger.child({ worker: 'crm' }) }) };
    }
    // Linked engineering issues (Linear, Jira): links, webhooks and the poller under them.
    const trackers = buildTrackers(config.trackers, options.trackers);
    const issueLinks =
      trackers.size > 0
        ? new IssueLinks({
            database,
            sla,
            trackers,
            settings: notify.trackers ?? DEFAULT_TRACKER_SETTINGS,
            tickets,
            jiraHosts: config.trackers.jira ? [new URL(config.trackers.jira.baseUrl).hostname.toLowerCase()] : [],
            clock,
            onEnqueued: wake,
            logger: logger.child({ part: 'issues' }),
            events,
          })
        : undefined;
    cards.issueTrackers = issueLinks !== undefined;
    const issuePoller = issueLinks ? new IssuePoller({ db, trackers, issues: issueLinks, logger: logger.child({ worker: 'issues' }), intervalMs: config.trackers.pollIntervalMs, clock }) : undefined;
    const escalations = new EscalationService({ database, policy: sla, tickets, clock, onEnqueued: wake, events });
    const slaService = new SlaService({ database, policy: sla, escalations, clock, onEnqueued: wake, events });
    const reminders = new ReminderService({ database, policy: sla, clock, onEnqueued: () => { outbox.wake(); eventWorker.wake(); }, onScheduled: () => sweeperRef?.recheck(), events });
    const reports = new ReportService({ db, policy: sla, clock });
    // Files on tickets (Teams files, email attachments) and their signed download links. Without
    // ATTACHMENT_LINK_SECRET a random secret is used: links die with this process (documented).
    let publicUrl = config.files.publicUrl;
    // With a scanner, kept files wait for its verdict before anyone may download them.
    const clamd = config.files.clamd ? new ClamdClient(config.files.clamd) : undefined;
    let scanning: RunningService['scanning'];
    // Attachment contents: new ones go to ATTACHMENT_STORE; any store with settings is read from.
    const opened = openAttachmentStores(config.files.store, db, clock);
    const attachmentStores = new AttachmentStores(db, opened.primary, opened.all, { clock });
    const files = new TicketFiles({
      db,
      actors,
      limits: { attachmentMaxBytes: config.mail.attachmentMaxBytes, attachmentDir: config.mail.attachmentDir, stores: attachmentStores },
      links: { secret: config.files.linkSecret ? Buffer.from(config.files.linkSecret, 'utf8') : randomBytes(32), ttlMs: config.files.linkTtlMs, baseUrl: () => publicUrl ?? '' },
      logger: logger.child({ part: 'files' }),
      clock,
      onKept: (ticketId, kept) => tickets.filesAdded(ticketId, kept),
      ...(clamd ? { scanning: { wake: () => scanning?.worker.wake() } } : {}),
    });
    if (clamd) {
      const service = new AttachmentScanning({
        db,
        scanner: clamd,
        contents: (attachment) => files.contents(attachment),
        onScanned: (ticketId, results) => tickets.filesScanned(ticketId, results),
        logger: logger.child({ worker: 'scan' }),
        owner,
        options: options.scan,
      });
      scanning = { service, client: clamd, worker: new ScanWorker({ scanning: service, logger: logger.child({ worker: 'scan' }) }) };
    }
    const fileServices = {
      files,
      options: { downloadOrigins: config.files.downloadOrigins, ...(options.filesTurnBudgetMs !== undefined ? { turnBudgetMs: options.filesTurnBudgetMs } : {}) },
      linkTtlMs: config.files.linkTtlMs,
    };
    const queries = new TicketQueries({ db, clock });
    // Slack's buttons and /ticket command act as the desk person with the same verified email.
    const slackPeople = slackApi ? new SlackPeople({ db, policy: config.roles, userInfo: (id, signal) => slackApi.userInfo(id, signal), clock }) : undefined;
    const slackEndpoint = slackApi && slackPeople ? slackEndpointFor(config.notify.slack!.signingSecret, slackPeople, new SlackInteractions({ db, tickets, sla: slaService, escalations, queries, actorOf: (person) => slackPeople.actorOf(person), personOfSlackUser: async (id) => { const who = await slackPeople.identify(id); return who.ok ? who.actor.person : undefined; } }), logger, options.slackResponseUrlBase) : undefined;
    const cardCopies = new CardCopyRecorder({ database, clock, onEnqueued: wake, onError: (error, what) => logger.error({ err: error }, what) });
    const runner = new CommandRunner({ access, tickets, queries, cards, setup: new SetupService(db, clock), escalations, reminders, actors, clock, defaultTier: sla.defaultTier, ...(crm ? { crm: crm.enrichment } : {}), health: { report: (o) => health.report(o) }, reports, files, integrations, ...(issueLinks ? { issues: issueLinks } : {}) });
    const requests = new RequestConversations({ db, clock });
    const turnServices = { logger, conversations, actors, access, tickets, sla: slaService, escalations, reminders, cards, cardCopies, runner, fileServices, requests, queries, ...(assistant ? { assistant } : {}) };
    const bot = createBot({
      ...turnServices,
      helpersFor: (context, actor) => turnHelpers(context, actor, turnServices),
      adapter,
      botAppId: config.bot.appId,
      db,
      clock,
      onEnqueued: wake,
    });
    const outbox: OutboxWorker = new OutboxWorker({
      database,
      delivery: new ConnectorDelivery(adapter, config.bot.appId, Date.now, options.deliveryTimeoutMs),
      cards,
      logger: logger.child({ worker: 'outbox' }),
      // Sends are timed by the wall clock (Teams' rate limits, Retry-After, leases), not by `clock`,
      // which is the service's idea of business time and may be a test's fake clock. Quiet-hour holds
      // are business time: they were decided on `clock`, so they end on it.
      calendarClock: clock,
      options: options.outbox,
      onUnreachable: (conversationId) => conversations.unreachable(conversationId),
      onSendResult: (result) => metricsOf?.sends.inc({ result: result.ok ? 'ok' : sendResult(result.status, false) }),
      owner,
    });
    const digests = new DigestService({ database, policy: sla, clock, reports, onEnqueued: () => outbox.wake() });
    let mail: RunningService['mail'];
    if (config.graph && outgoing) {
      const client = new GraphMailClient(config.graph, options.graph);
      const intake = new MailIntake({
        database,
        tickets,
        outgoing,
        source: MailSync.source(client),
        options: {
          ownAddresses: [config.graph.mailbox],
          reopenWindowMs: config.mail.reopenWindowMs,
          attachmentMaxBytes: config.mail.attachmentMaxBytes,
          attachmentDir: config.mail.attachmentDir,
          scanAttachments: clamd !== undefined,
          stores: attachmentStores,
        },
        logger: logger.child({ worker: 'mail-intake' }),
        clock,
        onEnqueued: () => {
          wake();
          // A filed email may have brought attachments to scan.
          scanning?.worker.wake();
        },
        roleOf: (person) => actors.roleOf(person),
      });
      const sync = new MailSync({
        database,
        client,
        intake,
        logger: logger.child({ worker: 'mail-sync' }),
        onIngested: (disposition, reason) => metricsOf?.mailIngested.inc({ disposition, reason }),
        // A quarantine card for the triage channel goes out at once.
        onEnqueued: wake,
        options: {
          pollIntervalMs: config.graph.pollIntervalMs,
          notificationUrl: config.graph.notificationUrl,
          subscriptionMinutes: config.graph.subscriptionMinutes,
          messageTimeoutMs: config.mail.messageTimeoutMs,
          ...options.mailSync,
        },
        owner,
      });
      const sender = new MailSender({ database, client, logger: logger.child({ worker: 'mail-sender' }), options: options.mailSender, owner });
      mail = { sync, sender, intake, client };
    }
    const sweeper = new SlaSweeper({ database, sla: slaService, escalations, reminders, digests, logger: logger.child({ worker: 'sla' }), clock, options: options.sweeper, owner });
    sweeperRef = sweeper;
    const metrics = new Metrics();
    metricsOf = metrics;
    metrics.collect(async (state) => {
      const teams = await outboxDepth(db);
      const mailDepth = await mailOutboxDepth(db);
      state.outboxDepth.set({ outbox: 'teams', status: 'pending' }, teams.pending);
      state.outboxDepth.set({ outbox: 'teams', status: 'dead' }, teams.dead);
      state.outboxDepth.set({ outbox: 'mail', status: 'pending' }, mailDepth.pending);
      state.outboxDepth.set({ outbox: 'mail', status: 'dead' }, mailDepth.dead);
      state.outboxOldest.set(teams.oldestPendingAt === undefined ? 0 : (Date.now() - teams.oldestPendingAt) / 1000);
      if (mail?.sync.stats.lastSyncAt !== undefined) state.mailLag.set((Date.now() - mail.sync.stats.lastSyncAt) / 1000);
      if (crm) {
        state.hubspotCalls.set({ result: 'all' }, crm.client.counters.requests);
        state.hubspotCalls.set({ result: '429' }, crm.client.counters.throttled);
        const { cacheHits, found, missing } = crm.enrichment.stats;
        state.crmCacheHitRatio.set(cacheHits + found + missing === 0 ? 0 : cacheHits / (cacheHits + found + missing));
      }
      state.openTickets.reset();
      for (const row of await openTicketCounts(db)) state.openTickets.set({ status: row.status, priority: row.priority }, row.count);
      state.slaEvents.reset();
      for (const row of await slaEventCounts(db)) state.slaEvents.set({ kind: row.kind, priority: row.priority }, row.count);
      state.escalations.reset();
      for (const row of await escalationCounts(db)) state.escalations.set({ state: row.state }, row.count);
    });
    const botProbe = botTokenProbe(config.bot);
    const health = new HealthChecks([
      { name: 'database', probe: () => database.ping(), critical: true },
      ...(botProbe ? [{ name: 'bot', probe: botProbe }] : []),
      ...(mail ? [{ name: 'mailbox', probe: () => mail!.client.probe(), workerError: () => mail!.sync.stats.lastError }] : []),
      ...(crm ? [{ name: 'hubspot', probe: () => crm!.client.probe() }] : []),
      ...(scanning ? [{ name: 'clamd', probe: () => scanning!.client.ping(), workerError: () => scanning!.service.lastError }] : []),
      // A tracker is as healthy as a cheap read with the desk's credentials (its teams or projects).
      ...[...trackers.values()].map((tracker) => ({ name: tracker.name, probe: async () => void (await tracker.projects()), workerError: () => issuePoller?.lastErrorOf(tracker.name) })),
      ...(slackApi ? [{ name: 'slack', probe: async () => void (await slackApi.authTest(AbortSignal.timeout(4_000))) }] : []),
      // An integration is as healthy as its last delivery: failing (and not since delivered) is degraded, then down.
      ...[...targets.keys()].map((name) => ({ name: `integration:${name}`, probe: async () => undefined, workerError: () => eventWorker.lastErrorOf(name) })),
    ]);
    const http = new HttpServer({
      logger,
      messages: createMessageEndpoint(adapter, bot, logger),
      health,
      metrics,
      metricsToken: config.metricsToken,
      maxBodyBytes: config.http.maxBodyBytes,
      attachments: files,
      ...(slackEndpoint ? { slack: slackEndpoint } : {}),
      ...(issueLinks ? { trackerWebhooks: issueLinks } : {}),
      ...(mail
        ? {
            graphNotifications: {
              clientStateMatches: (state: string | undefined) => mail!.sync.clientStateMatches(state),
              changed: () => mail!.sync.wake(),
              lifecycle: (event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed') => mail!.sync.lifecycle(event),
            },
          }
        : {}),
      ...(crm && config.hubspot
        ? {
            hubspotWebhooks: {
              secret: config.hubspot.clientSecret,
              publicUrl: config.hubspot.webhookUrl,
              // Kept twice the signature window: anything older is refused by its timestamp anyway.
              firstTime: (signature: string, now: number) => rememberReceipt(db, signature, now, 10 * 60_000),
              changed: async (changed: { contactIds: string[]; companyIds: string[] }) => {
                const queued = await crm!.enrichment.refresh(changed);
                if (queued > 0) crm!.worker.wake();
              },
            },
          }
        : {}),
    });

    const retention = config.retentionDays ? new Retention({ database, days: config.retentionDays, logger: logger.child({ worker: 'retention' }), clock, stores: attachmentStores }) : undefined;
    await heartbeat.start();
    const address = await http.listen(config.http.port, config.http.host);
    if (!publicUrl) {
      // Without PUBLIC_URL, links name this machine as it listens; a wildcard address is no place a
      // browser can open, so it becomes localhost (right for the Agents Playground, wrong for anyone else).
      const host = ['0.0.0.0', '::', '::ffff:0.0.0.0'].includes(address.address) ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
      publicUrl = `http://${host}:${address.port}`;
      if (config.bot.appId) logger.warn({ publicUrl }, 'PUBLIC_URL is not set: file download links point at this machine and will not open for Teams users; set PUBLIC_URL to the service’s public https address');
    }
    if (!config.files.linkSecret && config.bot.appId) {
      logger.warn('ATTACHMENT_LINK_SECRET is not set: file download links are signed with a secret of this process alone, so they stop working on restart and on other replicas');
    }
    outbox.start();
    eventWorker.start();
    sweeper.start();
    mail?.sender.start();
    crm?.worker.start();
    scanning?.worker.start();
    retention?.start();
    attachmentStores.startSweeping(logger.child({ worker: 'attachment-sweep' }));
    issuePoller?.start();
    // After listening: creating a subscription makes Graph call our notification URL to validate it.
    mail?.sync.start();
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    logger.info(
      {
        port: address.port,
        host: address.address,
        database: database.dialect,
        auth: config.bot.appId ? 'on' : 'off (local mode)',
        email: config.graph ? `${config.graph.mailbox} (${config.graph.notificationUrl ? 'notifications + polling' : 'polling'})` : 'off',
      },
      'service desk listening',
    );

    let stopping: Promise<void> | undefined;
    return {
      address,
      url: `http://${host}:${address.port}`,
      database,
      outbox,
      sweeper,
      mail,
      crm,
      events: { worker: eventWorker, integrations },
      scanning,
      issues: issueLinks && issuePoller ? { links: issueLinks, poller: issuePoller } : undefined,
      assistant,
      tickets,
      health,
      metrics,
      retention,
      attachmentStores,
      stop: () =>
        (stopping ??= (async () => {
          logger.info('shutting down: draining requests');
          await http.close(config.shutdownTimeoutMs);
          await cardCopies.flush();
          await mail?.sync.stop();
          await sweeper.stop();
          await mail?.sender.stop();
          await crm?.worker.stop();
          await scanning?.worker.stop();
          await issuePoller?.stop();
          await outbox.stop();
          await eventWorker.stop();
          for (const { target } of targets.values()) target.close?.();
          retention?.stop();
          attachmentStores.stopSweeping();
          await heartbeat.stop();
          await database.close();
          unlock();
          logger.info('shut down cleanly');
        })()),
    };
  } catch (error) {
    await database.close().catch(() => undefined);
    unlock();
    throw error;
  }
}

/** Slack's endpoint; without the signing secret every Slack request is refused with what to set. */
function slackEndpointFor(signingSecret: string | undefined, people: SlackPeople, interactions: SlackInteractions, logger: Logger, responseUrlBase: string | undefined) {
  if (!signingSecret) {
    logger.warn('SLACK_SIGNING_SECRET is not set: Slack buttons and the /ticket command are refused until it is');
    return { handle: async () => ({ status: 401, body: { error: 'SLACK_SIGNING_SECRET is not set on the service desk' } }) };
  }
  return new SlackEndpoint({ signingSecret, identify: (id) => people.identify(id), interactions, logger: logger.child({ part: 'slack' }), ...(responseUrlBase ? { responseUrlBase } : {}) });
}

function defaultSlaPolicy(): SlaPolicy {
  const loaded = loadSlaPolicy(undefined);
  if (!loaded.ok) throw new Error(`the built-in SLA policy is invalid: ${loaded.problems.join('; ')}`);
  return loaded.policy;
}
