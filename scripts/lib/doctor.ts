import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { parseConfig, type Config } from '../../src/config.js';
import { GraphMailClient } from '../../src/integrations/graph/mail-client.js';
import { HubSpotClient } from '../../src/integrations/hubspot/client.js';
import { buildTargets } from '../../src/integrations/notify/build-targets.js';
import { AddressGuard } from '../../src/integrations/outbound/address-guard.js';
import { SlackApi } from '../../src/integrations/slack/client.js';
import { ClamdClient } from '../../src/integrations/clamd/client.js';
import { buildTrackers } from '../../src/integrations/trackers/build.js';
import { loadNotifyConfig } from '../../src/notify-config.js';
import { loadSlaPolicy } from '../../src/sla-config.js';
import { openDatabase } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrations/index.js';
import { botTokenProbe } from '../../src/teams/bot-token-probe.js';
import { buildAppPackage, PackageError } from './app-package.js';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { openAttachmentStores } from '../../src/integrations/storage/open.js';

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

  if (config.files.clamd) {
    const clamd = new ClamdClient({ ...config.files.clamd, timeoutMs: Math.min(config.files.clamd.timeoutMs, options.timeoutMs ?? 10_000) });
    rows.push(await check('malware scanner (clamd)', async () => {
      await clamd.ping();
      return `clamd at ${clamd.address} answers PING`;
    }, 'Start clamd with a TCPSocket (clamd.conf) reachable from here, or fix CLAMD_HOST; until then new files stay "scanning…".'));
  } else rows.push({ check: 'malware scanner (clamd)', ok: true, skipped: true, detail: 'files are not scanned (no CLAMD_HOST)' });
  // Linear and Jira, when connected: a cheap read (teams, projects) with the desk's credentials.
  for (const tracker of buildTrackers(config.trackers, { attempts: 1, timeoutMs: options.timeoutMs ?? 10_000 }).values()) {
    const label = tracker.name === 'linear' ? 'Linear' : 'Jira';
    const secret = tracker.name === 'linear' ? config.trackers.linear?.webhookSecret : config.trackers.jira?.webhookSecret;
    rows.push(await check(label, async () => {
      const projects = await tracker.projects();
      return `credentials accepted; ${projects.length} ${tracker.name === 'linear' ? 'team(s)' : 'project(s)'}; ${secret ? 'webhooks verified' : 'webhooks refused (no secret): polling only'}`;
    }, tracker.name === 'linear' ? 'Check LINEAR_API_KEY (Settings → Security & access → API keys) and LINEAR_API_URL.' : 'Check JIRA_BASE_URL, JIRA_EMAIL and JIRA_API_TOKEN (an API token of that Atlassian account).'));
  }

  rows.push(...(await integrationRows(config, env, options.timeoutMs)));
  rows.push(await attachmentStoreRow(config, options.timeoutMs));

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

/**
 * The rules file and each integration in it. Webhooks are resolved and checked against the address
 * guard (nothing is sent: a receiver would take a test for an event); Slack's token is checked with
 * auth.test; PagerDuty has no call that does not page someone, so its key is checked for shape only
 * (`integrations test <name>` in chat sends a test alert that resolves itself).
 */
async function integrationRows(config: Config, env: Record<string, string | undefined>, timeoutMs = 10_000): Promise<DoctorRow[]> {
  const loaded = loadNotifyConfig(config.notify.configPath, env as NodeJS.ProcessEnv);
  if (!loaded.ok) return [{ check: 'notification rules', ok: false, detail: loaded.problems.join('; '), fix: 'Fix the lines named in NOTIFY_CONFIG (or unset it for the built-in Teams routing only).' }];
  const { integrations, rules, source } = loaded.config;
  const rows: DoctorRow[] = [{ check: 'notification rules', ok: true, skipped: !config.notify.configPath, detail: config.notify.configPath ? `${source}: ${rules.length} rule(s), ${integrations.length} integration(s)` : 'built-in Teams routing only (no NOTIFY_CONFIG)' }];
  const slack = config.notify.slack ? new SlackApi({ token: config.notify.slack.botToken, apiUrl: config.notify.slack.apiUrl }) : undefined;
  let targets;
  try {
    targets = buildTargets(integrations, config.notify, slack ? { slack } : {});
  } catch (error) {
    rows.push({ check: 'integrations', ok: false, detail: error instanceof Error ? error.message : String(error), fix: 'Fix the integration named in NOTIFY_CONFIG or the variable it reads.' });
    return rows;
  }
  for (const spec of integrations) {
    const where = targets.get(spec.name)!.target.describe();
    targets.get(spec.name)!.target.close?.();
    if (spec.type === 'webhook') {
      rows.push(await check(`integration ${spec.name}`, async () => {
        const url = new URL(spec.url);
        const guard = new AddressGuard({ allowLoopback: spec.allowLoopback, allowPrivate: spec.allowPrivateAddresses });
        const addresses = await guard.resolve(url.hostname);
        return `webhook ${where}: resolves to ${addresses.map((a) => a.address).join(', ')}, an address webhooks may reach; ${spec.secrets.length} signing secret(s)`;
      }, `Check the URL of integrations.${spec.name}; a receiver inside your network needs allowPrivateAddresses: true.`, timeoutMs));
    } else if (spec.type === 'pagerduty') {
      rows.push({ check: `integration ${spec.name}`, ok: true, detail: `PagerDuty ${where}: key set; send a test alert with "integrations test ${spec.name}" in Teams` });
    } else {
      rows.push(await check(`integration ${spec.name}`, async () => {
        const who = await slack!.authTest(AbortSignal.timeout(timeoutMs));
        return `Slack ${where}: token accepted${who.team ? ` (workspace ${who.team})` : ''}`;
      }, 'Check SLACK_BOT_TOKEN (the app\'s bot token, xoxb-…) and that the app is installed in the workspace and invited to the channel.', timeoutMs));
    }
  }
  if (config.notify.slack && !config.notify.slack.signingSecret) rows.push({ check: 'Slack requests', ok: false, detail: 'SLACK_SIGNING_SECRET is not set: Slack buttons and /ticket are refused', fix: 'Copy the signing secret from the Slack app\'s Basic Information page into SLACK_SIGNING_SECRET.' });
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

/**
 * ATTACHMENT_STORE for real: a tiny object of random bytes (so it can be no one's file) written,
 * read back, compared and deleted. The database store is the database checked above.
 */
async function attachmentStoreRow(config: Config, timeoutMs?: number): Promise<DoctorRow> {
  const kind = config.files.store.kind;
  if (kind === 'database') return { check: 'attachment store', ok: true, detail: 'in the database (ATTACHMENT_STORE unset or database)' };
  return check('attachment store', async () => {
    const database = openDatabase(config.database);
    try {
      const { primary } = openAttachmentStores(config.files.store, database.db);
      const probe = Buffer.concat([Buffer.from('service desk doctor probe '), randomBytes(16)]);
      const put = await primary.put(Readable.from([probe]), { maxBytes: 1024 });
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of (await primary.get(put.key)) ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
        if (!Buffer.concat(chunks).equals(probe)) throw new Error('the object read back differs from the one written');
        if (primary.signedUrl) await primary.signedUrl(put.key, { ttlMs: 60_000, contentDisposition: 'attachment', contentType: 'application/octet-stream' });
      } finally {
        await primary.delete(put.key);
      }
      return `${primary.describe()}: wrote, read back and deleted a test object${primary.signedUrl ? '; signed URLs can be made' : ''}`;
    } finally {
      await database.close();
    }
  }, kind === 'folder'
    ? 'Check ATTACHMENT_DIR: the service\'s user must be able to create and write it.'
    : kind === 'azure'
      ? 'Check AZURE_STORAGE_CONNECTION_STRING (or the account URL, name and key): the key must be current and allow creating the container and its blobs.'
      : 'Check S3_BUCKET (it must exist), S3_REGION, S3_ENDPOINT for a compatible server, and the AWS credentials (s3:PutObject, GetObject, DeleteObject on the bucket).', timeoutMs);
}
