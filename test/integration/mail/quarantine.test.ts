import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { beginAttempt, findAttempt, listQuarantined } from '../../../src/store/mail-quarantine.js';
import { composeEml } from '../../fakes/mail-message.js';
import { adele, channelMessage, CHANNEL_ID } from '../../support/activities.js';
import { schemaErrors } from '../../support/card-schema.js';
import { startHarness, SUPPORT_MAILBOX, type Harness } from '../../support/harness.js';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sd-quarantine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

let databases = 0;
/** The service on a database file (the script opens it too, and a restart keeps it), with a triage channel. */
async function start(options: { messageTimeoutMs?: number } = {}) {
  const databaseUrl = `sqlite:${join(dir, `desk-${++databases}.db`)}`;
  const attachmentDir = join(dir, `files-${databases}`);
  h = await startHarness({
    mail: true,
    env: { DATABASE_URL: databaseUrl, ADMIN_IDS: adele.aadObjectId, ATTACHMENT_DIR: attachmentDir },
    service: { mailSync: options.messageTimeoutMs ? { messageTimeoutMs: options.messageTimeoutMs } : {} },
  });
  const setup = channelMessage(h, 'setup triage', { from: adele });
  await h.post(setup);
  await h.connector.waitFor((c) => c.activityId === setup.id);
  return { databaseUrl, attachmentDir };
}

const db = () => h.service.database.db;
const subjects = async () => (await db().selectFrom('tickets').select('subject').orderBy('id').execute()).map((t) => t.subject);
const requestsFor = (mailboxId: string) => h.graph.requests.filter((r) => r.path.includes(`/messages/${mailboxId}/`));

/** `npm run mail -- <args>` as an operator runs it (a process start through tsx: a second or two each). */
async function mailTool(databaseUrl: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/mail.ts', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  return result;
}

const quarantineCards = () => h.connector.waitFor((c) => c.operation === 'send' && c.conversationId === CHANNEL_ID && JSON.stringify(c.activity).includes('An email was quarantined'));

describe('poison mail is quarantined, not retried forever', () => {
  it('quarantines a mail that failed twice, goes on with the next ones, tells the triage channel, and an admin retries it', async () => {
    const { databaseUrl, attachmentDir } = await start();
    const report = Buffer.from('%PDF-1.7 quarterly report\n');
    const poison = await h.graph.deliver(
      composeEml({ from: 'ines@fabrikam.example', subject: 'Invoice with a vanishing file', text: 'see attached', attachments: [{ name: 'report.pdf', type: 'application/pdf', content: report }] }),
    );
    await h.graph.deliver(composeEml({ from: 'bo@fabrikam.example', subject: 'After the poison one', text: 'x' }));
    // Its file cannot be downloaded, twice: a fault of this message, not of Graph as a whole.
    h.graph.fail((method, path) => method === 'GET' && path.includes(`/messages/${poison.id}/attachments/`) && path.endsWith('/$value'), { status: 404 }, 2);
    await h.syncMail();

    expect(await subjects()).toEqual(['After the poison one']);
    const [quarantined] = await listQuarantined(db());
    expect(quarantined).toMatchObject({ state: 'quarantined', mailboxId: poison.id, internetMessageId: poison.internetMessageId, subject: 'Invoice with a vanishing file', fromAddress: 'ines@fabrikam.example', attempts: 2 });
    expect(quarantined!.reason).toMatch(/download an attachment: 404/);
    expect(h.logs.lines.some((l) => l.msg.startsWith('an email was quarantined') && l.quarantineId === quarantined!.id)).toBe(true);

    const [card] = await quarantineCards();
    const content = card!.activity.attachments[0].content;
    expect(schemaErrors(content)).toEqual([]);
    const text = JSON.stringify(content);
    for (const shown of ['Invoice with a vanishing file', 'ines@fabrikam.example', `npm run mail -- retry ${quarantined!.id}`, `npm run mail -- drop ${quarantined!.id}`]) expect(text).toContain(shown);

    // The next round does not touch it again.
    const before = requestsFor(poison.id).length;
    await h.graph.deliver(composeEml({ from: 'cy@fabrikam.example', subject: 'Later still', text: 'x' }));
    await h.syncMail();
    expect(await subjects()).toEqual(['After the poison one', 'Later still']);
    expect(requestsFor(poison.id)).toHaveLength(before);

    const listed = await mailTool(databaseUrl, 'quarantine');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('Quarantined email: 1.');
    expect(listed.stdout).toMatch(new RegExp(`${quarantined!.id} +\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z +from ines@fabrikam\\.example +"Invoice with a vanishing file" +2 attempt\\(s\\)`));
    expect(listed.stdout).toMatch(/why: .*download an attachment: 404/);

    const retried = await mailTool(databaseUrl, 'retry', String(quarantined!.id));
    expect(retried).toMatchObject({ code: 0, stderr: '' });
    expect(retried.stdout).toContain('will be read again');
    await h.syncMail();
    expect(await subjects()).toEqual(['After the poison one', 'Later still', 'Invoice with a vanishing file']);
    expect(await listQuarantined(db())).toEqual([]);
    const file = await db().selectFrom('mail_attachments').selectAll().where('name', '=', 'report.pdf').executeTakeFirstOrThrow();
    expect(file.storage).toBe('file');
    expect(file.store).toBe('folder');
    expect(readFileSync(join(attachmentDir, file.content_key!)).equals(report)).toBe(true);
    expect((await mailTool(databaseUrl, 'quarantine')).stdout).toContain('Quarantined email: 0.');
  }, 60_000);

  it('quarantines a mail that runs past the time limit twice; an admin drops it, and the tool explains refusals', async () => {
    const { databaseUrl } = await start({ messageTimeoutMs: 400 });
    const slow = await h.graph.deliver(composeEml({ from: 'dee@fabrikam.example', subject: 'Never finishes', text: 'x', attachments: [{ name: 'a.txt', type: 'text/plain', content: Buffer.from('a') }] }));
    await h.graph.deliver(composeEml({ from: 'eve@fabrikam.example', subject: 'Right behind it', text: 'x' }));
    // Its attachment list never comes back (each Graph attempt times out after 2 s): intake hangs on it.
    h.graph.fail((method, path) => method === 'GET' && path.endsWith(`/messages/${slow.id}/attachments`), { status: 'hang' }, 100);
    const t0 = Date.now();
    await h.syncMail();
    // Two attempts of 400 ms, not Graph's 4 × 2 s per attempt: the time limit, not the client, ended them.
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect(await subjects()).toEqual(['Right behind it']);
    const [quarantined] = await listQuarantined(db());
    expect(quarantined).toMatchObject({ mailboxId: slow.id, attempts: 2 });
    expect(quarantined!.reason).toBe('reading it took longer than the 400 ms allowed per message');

    expect(await mailTool(databaseUrl, 'drop', '9999')).toMatchObject({ code: 1, stderr: expect.stringContaining('no quarantined email has id 9999; see npm run mail -- quarantine') });
    expect(await mailTool(databaseUrl, 'retry', 'abc')).toMatchObject({ code: 2, stderr: expect.stringContaining('retry takes one quarantine id') });

    const dropped = await mailTool(databaseUrl, 'drop', String(quarantined!.id));
    expect(dropped.code).toBe(0);
    expect(dropped.stdout).toContain('is dropped');
    expect((await findAttempt(db(), quarantined!.id))?.state).toBe('dropped');
    expect((await mailTool(databaseUrl, 'quarantine')).stdout).toContain('Quarantined email: 0.');
    // Even when the mailbox is read from the start again, a dropped mail is not.
    const state = await db().selectFrom('mail_state').selectAll().where('key', 'like', 'delta:%').executeTakeFirstOrThrow();
    await db().updateTable('mail_state').set({ value: '' }).where('key', '=', state.key).execute();
    h.graph.faults.length = 0;
    await h.syncMail();
    expect(await subjects()).toEqual(['Right behind it']);
  }, 60_000);

  it('after a restart, quarantines at once a mail the dead process was reading twice, without reading it again, and goes on', async () => {
    await start();
    const crasher = await h.graph.deliver(
      composeEml({ from: 'fay@fabrikam.example', subject: 'Crashes the reader', text: 'x', attachments: [{ name: 'huge.bin', type: 'application/octet-stream', content: Buffer.alloc(64, 1) }] }),
    );
    const survivor = await h.graph.deliver(composeEml({ from: 'gil@fabrikam.example', subject: 'Crashed once only', text: 'x' }));
    await h.graph.deliver(composeEml({ from: 'hal@fabrikam.example', subject: 'Arrives after the crashes', text: 'x' }));
    // What the processes that died left behind: each wrote the message down as in progress, then died
    // reading it (before committing anything, so the cursor never moved past it). The crasher took
    // down two processes, the survivor one.
    const summary = (m: typeof crasher) => ({ mailboxId: m.id, internetMessageId: m.internetMessageId, subject: m.subject, fromAddress: m.from!.emailAddress.address, receivedAt: Date.parse(m.receivedDateTime) });
    for (const owner of ['mail-sync:1111:dead', 'mail-sync:2222:dead']) await beginAttempt(db(), SUPPORT_MAILBOX, summary(crasher), { owner, now: Date.now() });
    await beginAttempt(db(), SUPPORT_MAILBOX, summary(survivor), { owner: 'mail-sync:1111:dead', now: Date.now() });

    await h.restart();
    await h.syncMail();

    expect(await subjects()).toEqual(['Crashed once only', 'Arrives after the crashes']);
    expect(requestsFor(crasher.id)).toEqual([]); // its attachments were not even listed
    const [quarantined] = await listQuarantined(db());
    expect(quarantined).toMatchObject({ mailboxId: crasher.id, state: 'quarantined', attempts: 2 });
    expect(quarantined!.reason).toMatch(/the service stopped while reading it/);
    expect(JSON.stringify((await quarantineCards())[0]!.activity)).toContain('Crashes the reader');
    // The survivor's record is gone with its success; nothing else is left in progress.
    expect(await db().withTables<{ mail_intake_attempts: { state: string } }>().selectFrom('mail_intake_attempts').select('state').execute()).toEqual([{ state: 'quarantined' }]);
  });
});
