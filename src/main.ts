import { parseConfig } from './config.js';
import { createLogger } from './logger.js';
import { loadNotifyConfig } from './notify-config.js';
import { loadSlaPolicy } from './sla-config.js';

/** The process: read the environment, start the service, stop it cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  // Everything the service writes (database, attachments, logs it may be pointed at) is for its own
  // user: files 0600, folders 0700, whatever the shell's umask was.
  process.umask(0o077);
  const parsed = parseConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(
      `teams-service-desk cannot start; fix these settings (env vars, or env/.env.* files):\n${parsed.problems
        .map((p) => `  - ${p}`)
        .join('\n')}\n`,
    );
    process.exit(1);
  }
  const config = parsed.config;
  const sla = loadSlaPolicy(config.slaConfigPath);
  if (!sla.ok) {
    process.stderr.write(`teams-service-desk cannot start; fix the SLA policy:\n${sla.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  const notify = loadNotifyConfig(config.notify.configPath);
  if (!notify.ok) {
    process.stderr.write(`teams-service-desk cannot start; fix the notification rules (NOTIFY_CONFIG):\n${notify.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  if (!config.bot.appId) {
    logger.warn('BOT_ID is not set: running in local mode without authentication (Agents Playground / Emulator only)');
  } else if (config.bot.inbound.allowedTenantIds === '*') {
    logger.warn('ALLOWED_TENANT_IDS=*: people from any tenant that installs the app can open tickets');
  }

  // Loaded only once the config is known to be good, so a bad setting is reported in milliseconds
  // rather than after the Bot Framework libraries have loaded.
  const { startService } = await import('./service.js');
  const service = await startService(config, logger, { sla: sla.policy, notify: notify.config });
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'stop requested');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`teams-service-desk failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
