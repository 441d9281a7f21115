import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { parseConfig, type Config } from '../../src/config.js';
import { GraphMailClient } from '../../src/integrations/graph/mail-client.js';
import { HubSpotClient } from '../../src/integrations/hubspot/client.js';
import { loadSlaPolicy } from '../../src/sla-config.js';
import { openDatabase } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrations/index.js';
import { botTokenProbe } from '../../src/teams/bot-token-probe.js';
import { buildAppPackage, PackageError } from './app-package.js';

/**
 * The checks behind `npm run doctor`: the configuration, then every configured peer for real (a token
 * from Entra, the mailbox through Graph, HubSpot with the token's scopes), the database and the app
 * package. Each row says what is right or wrong and what to do.
 */
export interface DoctorRow {
  check: string;
  ok: boolean;
  /** Not configured, so not checked (not a failure). */
  skipped?: boolean;
  detail: string;
  fix?: string;
}

export async function runDoctor(env: Record<string, string | undefined>, options: { root: string; appEnv: string; timeoutMs?: number }): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  const parsed = parseConfig(env);
  if (!parsed.ok) {
    rows.push({ check: 'configuration', ok: false, detail: parsed.problems.join('; '), fix: 'Set the variables named (see the README\'s Configuration table), then run npm run doctor again.' });
    return rows;
  }
  const config: Config = parsed.config;
  rows.push({ check: 'configuration', ok: true, detail: `${config.env}; ${config.bot.appId ? `bot ${config.bot.appId}` : 'local mode (no BOT_ID)'}` });

  const sla = loadSlaPolicy(config.slaConfigPath);
  rows.push(sla.ok
    ? { check: 'SLA policy', ok: true, detail: `${config.slaConfigPath ?? 'built-in'}: tiers ${sla.policy.tiers.join(', ')}` }
    : { check: 'SLA policy', ok: false, detail: sla.problems.join('; '), fix: 'Fix the lines named in SLA_CONFIG (or unset it for the built-in policy).' });

  rows.push(await check('database', async () => {
    const database = openDatabase(config.database);
    try {
      await database.ping();
      const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });
      const pending = (await migrator.getMigrations()).filter((m) => !m.executedAt).length;
      return `${config.database.kind === 'sqlite' ? config.database.path : new URL(config.database.url).host} answers; ${pending === 0 ? 'schema up to date' : `${pending} migration(s) to apply at start`}`;
    } finally {
      await database.close();
    }
  }, 'Check DATABASE_URL: the file must be writable, or the Postgres server reachable with those credentials.'));

  const bot = botTokenProbe(config.bot);
  rows.push(bot
    ? await check('bot credentials', async () => {
        await bot();
        return `a token for ${config.bot.appId} from ${config.bot.endpoints.ToChannelFromBotLoginUrl ?? 'login.microsoftonline.com'}`;
      }, 'Check BOT_ID and BOT_PASSWORD (a current client secret of the Azure Bot\'s app registration), and BOT_TENANT_ID for SingleTenant.', options.timeoutMs)
    : { check: 'bot credentials', ok: config.env !== 'production', skipped: true, detail: config.bot.appId ? 'managed identity: checked by Azure' : 'local mode: no credentials to check', ...(config.env === 'production' ? { fix: 'Set BOT_ID and BOT_PASSWORD.' } : {}) });

  if (config.graph) {
    const graph = new GraphMailClient(config.graph, { attempts: 1, timeoutMs: options.timeoutMs ?? 10_000 });
    rows.push(await check('mailbox (Graph)', async () => {
      await graph.probe();
      return `${config.graph!.mailbox} reachable with Mail.ReadWrite; ${config.graph!.notificationUrl ? `notifications to ${config.graph!.notificationUrl}` : `polling every ${config.graph!.pollIntervalMs / 1000} s`}`;
    }, 'Check GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET, that the app has Mail.ReadWrite and Mail.Send (application, admin-consented), and SUPPORT_MAILBOX.'));
  } else rows.push({ check: 'mailbox (Graph)', ok: true, skipped: true, detail: 'email is off (no GRAPH_* settings)' });

  if (config.hubspot) {
    const hubspot = new HubSpotClient(config.hubspot, { attempts: 1, timeoutMs: options.timeoutMs ?? 10_000 });
    rows.push(await check('HubSpot', async () => {
      await hubspot.probe();
      return `token accepted (contacts readable); tier property ${config.hubspot!.tierProperty}${config.hubspot!.clientSecret ? '; webhooks verified' : ''}`;
    }, 'Check HUBSPOT_ACCESS_TOKEN (a private app token with crm.objects.contacts.read and crm.objects.companies.read) and HUBSPOT_BASE_URL.'));
    if (!config.hubspot.clientSecret) rows.push({ check: 'HubSpot webhooks', ok: true, skipped: true, detail: 'HUBSPOT_CLIENT_SECRET unset: webhooks are refused' });
  } else rows.push({ check: 'HubSpot', ok: true, skipped: true, detail: 'CRM enrichment is off (no HUBSPOT_ACCESS_TOKEN)' });

  if (existsSync(join(options.root, 'appPackage', 'manifest.json'))) {
    rows.push(await check('app package', async () => {
      try {
        const built = await buildAppPackage({ root: options.root, env: options.appEnv, overrides: env });
        return `${built.zipPath} (manifest ${built.manifest.manifestVersion}, app ${built.manifest.id})`;
      } catch (error) {
        if (error instanceof PackageError) throw new Error(error.problems.join('; '));
        throw error;
      }
    }, `Fill the values named in env/.env.${options.appEnv} (or the environment), then npm run package.`));
  }
  return rows;
}

async function check(name: string, run: () => Promise<string>, fix: string, timeoutMs = 15_000): Promise<DoctorRow> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([run(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs)))]);
    return { check: name, ok: true, detail };
  } catch (error) {
    return { check: name, ok: false, detail: error instanceof Error ? error.message.split('\n')[0]! : String(error), fix };
  } finally {
    clearTimeout(timer);
  }
}

export function formatDoctor(rows: DoctorRow[]): string {
  const width = Math.max(...rows.map((r) => r.check.length));
  const lines = rows.map((r) => {
    const mark = r.skipped ? '–' : r.ok ? '✓' : '✗';
    return `${mark} ${r.check.padEnd(width)}  ${r.detail}${r.ok || !r.fix ? '' : `\n  ${' '.repeat(width)}  → ${r.fix}`}`;
  });
  const failed = rows.filter((r) => !r.ok).length;
  return `${lines.join('\n')}\n\n${failed === 0 ? 'All good.' : `${failed} problem(s) to fix.`}\n`;
}
