import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { formatDoctor, runDoctor } from '../../scripts/lib/doctor.js';
import { RELEASE_GRACE_MS } from '../../src/services/attachments/stores.js';
import { contactByEmail } from '../../src/store/people.js';
import { composeEml } from '../fakes/mail-message.js';
import { FakeClamd } from '../fakes/clamd.js';
import { FakeSlack } from '../fakes/slack.js';
import { startHarness, type Harness } from '../support/harness.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../support/identity.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sd-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let h: Harness;
afterEach(() => h?.stop());

describe('npm run doctor', () => {
  const appEnv = { TEAMS_APP_ID: '2d2b5b4e-7c1a-4f0e-9a41-6f1e8a1d3c11', BOT_DOMAIN: 'desk.contoso.example', TEAMS_APP_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47' };

  it('checks every configured peer for real and passes a good configuration', async () => {
    h = await startHarness({ mail: true, hubspot: true });
    const clamd = await new FakeClamd().start();
    try {
      const env = { ...configEnv(h), ...appEnv, DATABASE_URL: `sqlite:${join(dir, 'doctor.db')}`, CLAMD_HOST: clamd.hostPort };
      const rows = await runDoctor(env, { root, appEnv: 'dev', timeoutMs: 5_000 });
      expect(rows.map((r) => [r.check, r.ok])).toEqual([
        ['configuration', true],
        ['SLA policy', true],
        ['database', true],
        ['bot credentials', true],
        ['mailbox (Graph)', true],
        ['HubSpot', true],
        ['malware scanner (clamd)', true],
        ['notification rules', true],
        ['attachment store', true],
        ['app package', true],
      ]);
      expect(formatDoctor(rows)).toMatch(/✓ mailbox \(Graph\) +support@contoso\.example reachable[\s\S]*All good\./);
      // The scanner was really asked (PING), not only configured.
      expect(clamd.commands).toEqual(['zPING']);
      clamd.refuse = true;
      const down = await runDoctor(env, { root, appEnv: 'dev', timeoutMs: 5_000 });
      expect(down.find((r) => r.check === 'malware scanner (clamd)')).toMatchObject({ ok: false, fix: expect.stringContaining('CLAMD_HOST') });
    } finally {
      await clamd.stop();
    }
  });

  it('names what is wrong and what to do, and fails', async () => {
    h = await startHarness({ mail: true, hubspot: true });
    const env = { ...configEnv(h), ...appEnv, GRAPH_CLIENT_SECRET: 'wrong', HUBSPOT_ACCESS_TOKEN: 'pat-revoked', DATABASE_URL: `sqlite:${join(dir, 'doctor2.db')}` };
    const rows = await runDoctor(env, { root, appEnv: 'dev', timeoutMs: 5_000 });
    const failed = rows.filter((r) => !r.ok).map((r) => r.check);
    expect(failed).toEqual(['mailbox (Graph)', 'HubSpot']);
    const text = formatDoctor(rows);
    expect(text).toContain('✗ HubSpot');
    expect(text).toContain('→ Check HUBSPOT_ACCESS_TOKEN');
    expect(text).toContain('2 problem(s) to fix.');
    const broken = await runDoctor({ PORT: 'not a port' }, { root, appEnv: 'dev' });
    expect(broken).toEqual([expect.objectContaining({ check: 'configuration', ok: false })]);
  });

  it('checks the notification rules and each integration: a webhook’s address, Slack’s token, PagerDuty’s key', async () => {
    h = await startHarness({ mail: true, hubspot: true });
    const slack = await new FakeSlack().start();
    try {
      const file = join(dir, 'notify.yaml');
      writeFileSync(
        file,
        `integrations:
  inside: { type: webhook, url: "http://127.0.0.1:9/hooks", secretEnv: HOOK_SECRET }
  on-call: { type: pagerduty }
  chat: { type: slack, channel: C0DESK0001 }
rules:
  - { name: all, events: ['*'], notify: [inside, on-call, chat] }
`,
      );
      const env = {
        ...configEnv(h),
        ...appEnv,
        DATABASE_URL: `sqlite:${join(dir, 'doctor3.db')}`,
        NOTIFY_CONFIG: file,
        HOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        PAGERDUTY_ROUTING_KEY: 'R0ABCDEF1234567890abcdef12345678',
        SLACK_BOT_TOKEN: slack.token,
        SLACK_API_URL: slack.apiUrl,
      };
      const rows = await runDoctor(env, { root, appEnv: 'dev', timeoutMs: 5_000 });
      const of = (name: string) => rows.find((r) => r.check === name)!;
      expect(of('notification rules')).toMatchObject({ ok: true, detail: expect.stringContaining('1 rule(s), 3 integration(s)') });
      expect(of('integration inside')).toMatchObject({ ok: false, detail: expect.stringMatching(/127\.0\.0\.1 is a loopback address/), fix: expect.stringContaining('allowPrivateAddresses') });
      expect(of('integration on-call')).toMatchObject({ ok: true, detail: expect.not.stringContaining('R0ABCDEF') });
      expect(of('integration chat')).toMatchObject({ ok: true, detail: expect.stringContaining('token accepted') });
      expect(of('Slack requests')).toMatchObject({ ok: false, fix: expect.stringContaining('SLACK_SIGNING_SECRET') });

      writeFileSync(file, 'rules:\n  - { name: x, events: [ticket.melted], notify: [nowhere] }\n');
      const broken = await runDoctor(env, { root, appEnv: 'dev', timeoutMs: 5_000 });
      expect(broken.find((r) => r.check === 'notification rules')).toMatchObject({ ok: false, detail: expect.stringMatching(/notify\.yaml:2:\d+: rules\.0\.events\.0: "ticket\.melted" is not an event/) });
    } finally {
      await slack.stop();
    }
  });

  it('exits non-zero from the command line when something is wrong', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', 'scripts/doctor.ts'], { cwd: root, env: { ...process.env, DATABASE_URL: 'mysql://nope' } }).catch((e) => e);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✗ configuration');
  });
});

describe('npm run backup', () => {
  it('copies the database while tickets are being written, holding every ticket committed before it', { timeout: 30_000 }, async () => {
    const file = join(dir, 'live.db');
    h = await startHarness({ env: { DATABASE_URL: `sqlite:${file}` } });
    const person = await contactByEmail(h.service.database.db, { email: 'load@fabrikam.example', name: 'Load' }, Date.now());
    const create = (n: number) => h.service.tickets.create({ actor: { person, role: 'requester' }, surface: 'email' }, { type: 'incident', subject: `Under load ${n}`, description: 'x'.repeat(2_000), priority: 'P3', teamId: null, source: 'email', postTo: [] });
    for (let i = 0; i < 300; i++) await create(i);
    let writing = true;
    let n = 300;
    const writer = (async () => {
      // SQLite answers synchronously: let the event loop breathe between writes, or nothing else runs.
      while (writing) {
        await create(n++);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const committedBefore = n;
    const target = join(dir, 'copy.db');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/backup.ts', target], { cwd: root, env: { ...process.env, DATABASE_URL: `sqlite:${file}` } });
    writing = false;
    await writer;
    expect(stdout).toMatch(/Backed up .* tickets, integrity ok/);
    const copy = new BetterSqlite3(target, { readonly: true });
    const subjects = new Set((copy.prepare('select subject from tickets').all() as Array<{ subject: string }>).map((r) => r.subject));
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    copy.close();
    for (let i = 0; i < committedBefore; i++) expect(subjects.has(`Under load ${i}`)).toBe(true);
  });
});

describe('attachment retention', () => {
  it('deletes attachment contents of tickets closed longer ago than RETENTION_DAYS, keeping what was attached', async () => {
    const attachments = join(dir, 'files');
    h = await startHarness({ mail: true, env: { RETENTION_DAYS: '30', ATTACHMENT_DIR: attachments } });
    for (const subject of ['Old closed', 'Still open']) {
      await h.graph.deliver(composeEml({ from: 'a@fabrikam.example', subject, text: 'see attached', attachments: [{ name: `${subject}.txt`, type: 'text/plain', content: Buffer.from('secret contents') }] }));
    }
    await h.syncMail();
    const db = h.service.database.db;
    await db.updateTable('tickets').set({ status: 'closed', is_open: 0, closed_at: Date.now() - 31 * 86_400_000 }).where('subject', '=', 'Old closed').execute();
    // The same bytes on both tickets: kept once.
    expect(readdirSync(attachments)).toHaveLength(1);
    expect(await h.service.retention!.purge()).toBe(1);
    const rows = await db.selectFrom('mail_attachments').innerJoin('tickets', 'tickets.id', 'mail_attachments.ticket_id').select(['tickets.subject', 'mail_attachments.name', 'mail_attachments.size', 'mail_attachments.purged_at', 'mail_attachments.content_key']).orderBy('tickets.id').execute();
    expect(rows[0]).toMatchObject({ subject: 'Old closed', name: 'Old closed.txt', size: 15 });
    expect(rows[0]!.purged_at).not.toBeNull();
    expect(rows[1]!.purged_at).toBeNull();
    // The open ticket still names the shared copy, so it stays; once that ticket is purged too, it goes.
    expect(existsSync(join(attachments, rows[1]!.content_key!))).toBe(true);
    await db.updateTable('tickets').set({ status: 'closed', is_open: 0, closed_at: Date.now() - 31 * 86_400_000 }).where('subject', '=', 'Still open').execute();
    expect(await h.service.retention!.purge()).toBe(1);
    // Deleted by the sweep once unused for the grace period (a save may be reusing the bytes meanwhile).
    expect(await h.service.attachmentStores.sweep(Date.now() + RELEASE_GRACE_MS + 1)).toBe(1);
    expect(readdirSync(attachments)).toEqual([]);
    expect(await h.service.retention!.purge()).toBe(0);
  });
});

/** The environment the harness's service runs with: the same fakes, as variables. */
function configEnv(harness: Harness): Record<string, string> {
  return {
    BOT_ID: BOT_APP_ID,
    BOT_PASSWORD,
    ALLOWED_TENANT_IDS: '*',
    ToBotFromChannelOpenIdMetadataUrl: harness.identity.openIdMetadataUrl,
    ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
    ToChannelFromBotLoginUrl: harness.identity.loginUrl,
    ToChannelFromBotOAuthScope: 'https://api.botframework.com',
    GRAPH_TENANT_ID: 'contoso',
    GRAPH_CLIENT_ID: '7d0c7c4a-1b6f-4a4e-9a55-5a1d2c3b4e5f',
    GRAPH_CLIENT_SECRET: 'graph-test-secret',
    SUPPORT_MAILBOX: harness.graph.mailbox,
    GRAPH_BASE_URL: harness.graph.baseUrl,
    AZURE_AUTHORITY_HOST: harness.identity.authorityHost,
    HUBSPOT_ACCESS_TOKEN: harness.hubspot.accessToken,
    HUBSPOT_BASE_URL: harness.hubspot.baseUrl,
    HUBSPOT_CLIENT_SECRET: 'hubspot-app-client-secret',
  };
}
