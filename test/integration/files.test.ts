import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signLink } from '../../src/domain/attachment-links.js';
import { RELEASE_GRACE_MS } from '../../src/services/attachments/stores.js';
import type { ConnectorCall } from '../fakes/connector.js';
import { composeEml } from '../fakes/mail-message.js';
import { FakeFileHost } from '../fakes/teams-files.js';
import { adele, alex, channelMessage, CHANNEL_ID, invoke, megan, personalConversationId, personalInstall, personalMessage, type Person } from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { storedBytes } from '../support/object-stores.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Files on tickets through the real endpoint: Teams files and screenshots kept with `new`, `reply`,
 * `note` and thread replies; channel files kept as links; the list in history and `files`; signed
 * download links; file consent; email attachments through the same list and download path.
 * Payload shapes: https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/bots-filesv4
 */

const SECRET = 'test-link-secret-0123456789-abcdefghijklmnop';
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/teams-activities/${name}`, import.meta.url), 'utf8'));
/** Microsoft Learn's example of a file sent to a bot in a personal chat (see test/fixtures/PROVENANCE.md). */
const DOWNLOAD_INFO = fixture('message-personal-file-download-info.json').attachments[0];
const CONSENT_ACCEPT = fixture('invoke-fileConsent-accept.json');
const CONSENT_DECLINE = fixture('invoke-fileConsent-decline.json');
const FILE_INFO = 'application/vnd.microsoft.teams.file.download.info';

let host: FakeFileHost;
beforeAll(async () => {
  host = await new FakeFileHost().start();
});
afterAll(() => host.stop());

describe('files on tickets (HTTP, auth on, fake channel and file host)', () => {
  let h: Harness;
  let callsBefore = 0;

  beforeEach(async () => {
    h = await startHarness({
      mail: true,
      env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId, ATTACHMENT_LINK_SECRET: SECRET, TEAMS_FILE_HOSTS: `https://*.sharepoint.com,${host.base.replace(/:\d+$/, ':*')}` },
    });
    for (const person of [alex, megan, adele]) {
      const install = personalInstall(h, 'add', person);
      await h.post(install);
      await h.connector.waitFor((c) => c.activityId === install.id);
    }
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
    callsBefore = h.connector.calls.length;
  });
  afterEach(() => {
    // Every Adaptive Card the bot sent renders in Teams (1.5 schema and object model).
    const cards = h.connector.calls.slice(callsBefore).flatMap((c) => (c.activity.attachments ?? []).filter((a: any) => a.contentType === 'application/vnd.microsoft.card.adaptive').map((a: any) => a.content));
    for (const card of cards) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
    return h.stop();
  });

  const db = () => h.service.database.db;
  const textOf = (call: ConnectorCall | undefined) => JSON.stringify(call?.activity.attachments ?? call?.activity.text);
  const rows = (ticketId: number) => db().selectFrom('ticket_attachments').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute();

  /** Posts an activity and returns every answer the bot sent to it (the reply, then what it says about the files). */
  async function post(activity: { id: string }, answers = 1): Promise<ConnectorCall[]> {
    expect((await h.post(activity)).status).toBe(200);
    return h.connector.waitFor((c) => c.activityId === activity.id, { count: answers });
  }
  const say = async (person: Person, text: string) => (await post(personalMessage(h, text, { from: person })))[0]!;
  const ticketIdNamed = async (reply: ConnectorCall) => {
    const ref = /Created ((?:INC|REQ)-\d+)/.exec(textOf(reply))![1]!;
    return (await db().selectFrom('tickets').select('id').where('reference', '=', ref).executeTakeFirstOrThrow()).id;
  };
  /** The signed link the `files` answer gives `person` for file `n` (1-based). */
  async function linkFor(person: Person, ref: string, n = 1): Promise<URL> {
    const reply = await say(person, `files ${ref}`);
    const urls = [...textOf(reply).matchAll(/"url":"([^"]+\/api\/attachments\/[^"]+)"/g)].map((m) => new URL(m[1]!.replace(/\\u0026/g, '&')));
    expect(urls.length).toBeGreaterThanOrEqual(n);
    return urls[n - 1]!;
  }
  const fetchLink = (url: URL) => fetch(`${h.service.url}${url.pathname}${url.search}`);
  const personId = async (p: Person) => (await db().selectFrom('people').select('id').where('aad_object_id', '=', p.aadObjectId).executeTakeFirstOrThrow()).id;

  /** Alex opens a ticket with a file attached: Learn's example, its addresses pointed at the fake file host. */
  async function openWithFile(bytes: Buffer, name = 'file_example.txt') {
    const downloadUrl = host.addDownload(bytes);
    const message = personalMessage(h, 'new VPN drops every hour', {
      from: alex,
      attachments: [{ ...DOWNLOAD_INFO, name, contentUrl: `${host.base}/personal/alex/Documents/Applications/${name}`, content: { ...DOWNLOAD_INFO.content, downloadUrl } }],
    });
    const [reply, filesNote] = await post(message, 2);
    const id = await ticketIdNamed(reply!);
    const ticket = await db().selectFrom('tickets').select(['reference']).where('id', '=', id).executeTakeFirstOrThrow();
    return { id, ref: ticket.reference, filesNote: filesNote! };
  }

  it('keeps a file sent with `new` in a personal chat on the new ticket, byte for byte, fetched from its pre-authenticated URL without our token', async () => {
    const bytes = Buffer.concat([Buffer.from('2026-12-02 VPN dropped\r\n'), randomBytes(5000)]);
    const { id, ref, filesNote } = await openWithFile(bytes);
    expect(textOf(filesNote)).toContain('Kept on the ticket: file_example.txt');
    const [row] = await rows(id);
    expect(row).toMatchObject({ origin: 'teams-file', name: 'file_example.txt', content_type: 'text/plain', size: bytes.length, visibility: 'public', storage: 'database', source_id: '1150D938-8870-4044-9F2C-5BBDEBA70C9D' });
    expect(row).toMatchObject({ store: 'database', content_key: createHash('sha256').update(bytes).digest('hex'), declared_type: 'text/plain', sniffed_type: null });
    expect((await storedBytes(h.service, row!))!.equals(bytes)).toBe(true);
    expect(host.downloadRequests.at(-1)?.authorization).toBeUndefined();
    // The ticket card lists it, with a button that asks for the files rather than a personal link.
    const card = await h.say(alex, `show ${ref}`);
    expect(textOf(card)).toContain('file_example.txt');
    expect(JSON.stringify(card.activity)).not.toContain('/api/attachments/');
  });

  it('fetches a screenshot in a ticket thread with the bot token from the Teams service, and refuses one on any other host', async () => {
    const { id, ref } = await openWithFile(Buffer.from('log'));
    const [triageCard] = await h.connector.waitFor((c) => c.operation === 'send' && c.conversationId === CHANNEL_ID && textOf(c).includes(ref));
    await expect.poll(() => db().selectFrom('card_posts').selectAll().where('ticket_id', '=', id).execute()).toHaveLength(2);
    // A real PNG (the app's icon): its bytes must show a PNG to the content sniffer to be served as one.
    const png = readFileSync(new URL('../../appPackage/outline.png', import.meta.url));
    const contentUrl = h.connector.addImage('0-wus-d1-screenshot', png);
    const reply = channelMessage(h, 'error dialog attached', { from: megan, threadRootId: triageCard!.createdId, attachments: [{ contentType: 'image/png', contentUrl }] });
    reply.text = 'error dialog attached';
    reply.entities = [];
    await post(reply, 2);
    const image = (await rows(id)).find((r) => r.origin === 'teams-image')!;
    // An agent's note in the triage channel is internal, and so is its screenshot.
    expect(image).toMatchObject({ content_type: 'image/png', size: png.length, visibility: 'internal' });
    expect((await storedBytes(h.service, image))!.equals(png)).toBe(true);
    expect(h.connector.imageRequests).toEqual([{ id: '0-wus-d1-screenshot', authorized: true }]);
    // The triage card is updated in place to list it (agents see internal files), without waiting for another change.
    await h.connector.waitFor((c) => c.operation === 'update' && c.conversationId === CHANNEL_ID && textOf(c).includes(ref) && textOf(c).includes(image.name));

    // The same shape naming another host: not fetched (no token leaves), and the person is told.
    const before = host.downloadRequests.length;
    const forged = channelMessage(h, 'another one', { from: megan, threadRootId: triageCard!.createdId, attachments: [{ contentType: 'image/png', contentUrl: `${host.base}/v3/attachments/x/views/original` }] });
    forged.text = 'another one';
    forged.entities = [];
    const [, note] = await post(forged, 2);
    expect(textOf(note)).toContain('Not kept');
    expect(host.downloadRequests.length).toBe(before);
    expect((await rows(id)).filter((r) => r.origin === 'teams-image')).toHaveLength(1);
  });

  it('keeps files shared in a channel as their SharePoint links (a reference, or a link in the message), never another host, and lists every file in the history', async () => {
    const sharepoint = 'https://contoso.sharepoint.com/sites/Support/Shared%20Documents/General/printer-jam.jpg';
    const inText = 'https://contoso.sharepoint.com/sites/Support/Shared%20Documents/General/error%20codes.xlsx';
    // Teams gives a bot in a channel the message's HTML, where a shared file is a link to SharePoint.
    // A link with no text and a badly escaped name is kept under its name as written, not a failed turn.
    const badlyEscaped = 'https://contoso.sharepoint.com/sites/Support/Shared%20Documents/report%E0%A4%A.pdf';
    const html = `<p><at>Service Desk</at> new Printer jams on floor 3, see <a href="${inText}">error codes.xlsx</a>, <a href="${badlyEscaped}"></a> and <a href="https://evil.example/x.exe">this</a></p>`;
    const message = channelMessage(h, 'new Printer jams on floor 3', {
      from: alex,
      attachments: [{ contentType: 'text/html', content: html }, { contentType: 'reference', contentUrl: sharepoint, name: 'printer-jam.jpg' }],
    });
    const [reply] = await post(message, 2);
    const id = await ticketIdNamed(reply!);
    expect(await rows(id)).toMatchObject([
      { origin: 'teams-link', storage: 'link', location: inText, name: 'error codes.xlsx', content: null },
      { origin: 'teams-link', storage: 'link', location: badlyEscaped, name: 'report%E0%A4%A.pdf', content: null },
      { origin: 'teams-link', storage: 'link', location: sharepoint, name: 'printer-jam.jpg', content: null },
    ]);
    const ref = (await db().selectFrom('tickets').select('reference').where('id', '=', id).executeTakeFirstOrThrow()).reference;
    const history = await say(alex, `history ${ref}`);
    expect(textOf(history)).toContain('printer-jam.jpg');
    expect(textOf(history)).toContain(`files ${ref}`);
  });

  it('serves a signed link to its person only: the bytes with a safe download header; tampered, re-addressed, expired or unknown links are refused', async () => {
    const bytes = randomBytes(3000);
    // Stored under a safe name (quotes replaced), served under it, and never able to break the header.
    const { ref } = await openWithFile(bytes, 'report "Q4".txt');
    const link = await linkFor(megan, ref);
    const ok = await fetchLink(link);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(bytes)).toBe(true);
    expect(ok.headers.get('content-disposition')).toBe(`attachment; filename="report _Q4_.txt"; filename*=UTF-8''report%20_Q4_.txt`);
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');

    const tampered = new URL(link);
    tampered.searchParams.set('sig', link.searchParams.get('sig')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
    expect((await fetchLink(tampered)).status).toBe(403);
    const readdressed = new URL(link);
    readdressed.searchParams.set('aud', String(await personId(alex)));
    expect((await fetchLink(readdressed)).status).toBe(403);
    const bare = new URL(link);
    bare.search = '';
    expect((await fetchLink(bare)).status).toBe(403);
    // Signed with the real secret, for a real person, but past its expiry.
    const key = link.pathname.split('/').pop()!;
    const past = Math.floor(Date.now() / 1000) - 1;
    const expired = new URL(link);
    expired.searchParams.set('exp', String(past));
    expired.searchParams.set('sig', signLink({ key, audience: Number(link.searchParams.get('aud')), expiresAt: past }, Buffer.from(SECRET)));
    const refused = await fetchLink(expired);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'link refused: expired' });
    const future = Math.floor(Date.now() / 1000) + 60;
    const unknown = new URL(`${h.service.url}/api/attachments/t999?aud=${link.searchParams.get('aud')}&exp=${future}`);
    unknown.searchParams.set('sig', signLink({ key: 't999', audience: Number(link.searchParams.get('aud')), expiresAt: future }, Buffer.from(SECRET)));
    expect((await fetchLink(unknown)).status).toBe(404);
  });

  it('never lets a requester open an internal file, even with a well-signed link', async () => {
    const { id, ref } = await openWithFile(Buffer.from('public'));
    const note = personalMessage(h, `note ${ref} internal trace`, { from: megan, attachments: [{ contentType: FILE_INFO, name: 'trace.txt', content: { downloadUrl: host.addDownload(Buffer.from('secret trace')), uniqueId: 'u2', fileType: 'txt' } }] });
    await post(note, 2);
    expect((await rows(id)).map((r) => [r.name, r.visibility])).toEqual([['file_example.txt', 'public'], ['trace.txt', 'internal']]);
    const alexList = await say(alex, `files ${ref}`);
    expect(textOf(alexList)).not.toContain('trace.txt');
    const internal = (await rows(id)).find((r) => r.name === 'trace.txt')!;
    const exp = Math.floor(Date.now() / 1000) + 60;
    const aud = await personId(alex);
    const response = await fetch(`${h.service.url}/api/attachments/t${internal.id}?aud=${aud}&exp=${exp}&sig=${signLink({ key: `t${internal.id}`, audience: aud, expiresAt: exp }, Buffer.from(SECRET))}`);
    expect(response.status).toBe(403);
  });

  it('sends a file back through file consent: the bytes reach the OneDrive upload session and a file card follows; declining sends nothing', async () => {
    const bytes = randomBytes(5 * 320 * 1024 + 17);
    const { ref } = await openWithFile(bytes, 'capture.bin');
    const offer = await say(megan, `file ${ref} 1`);
    const consent = offer.activity.attachments.find((a: any) => a.contentType === 'application/vnd.microsoft.teams.card.file.consent');
    expect(consent).toMatchObject({ name: 'capture.bin', content: { sizeInBytes: bytes.length } });

    const session = host.newUploadSession('capture.bin');
    const accept = invoke(h, CONSENT_ACCEPT.name, { ...CONSENT_ACCEPT.value, context: consent.content.acceptContext, uploadInfo: { ...CONSENT_ACCEPT.value.uploadInfo, ...session, name: 'capture.bin', fileType: 'bin' } }, megan);
    expect((await h.post(accept)).status).toBe(200);
    const [info] = await h.connector.waitFor((c) => c.activityId === accept.id);
    expect(info!.activity.attachments[0]).toMatchObject({ contentType: 'application/vnd.microsoft.teams.card.file.info', contentUrl: session.contentUrl, name: 'capture.bin', content: { uniqueId: session.uniqueId } });
    const uploaded = host.uploaded(session.uploadUrl)!;
    expect(uploaded.complete).toBe(true);
    expect(uploaded.bytes.equals(bytes)).toBe(true);

    const declined = host.newUploadSession('capture.bin');
    const decline = invoke(h, CONSENT_DECLINE.name, { ...CONSENT_DECLINE.value, context: consent.content.declineContext }, megan);
    expect((await h.post(decline)).status).toBe(200);
    const [answer] = await h.connector.waitFor((c) => c.activityId === decline.id);
    expect(textOf(answer)).toContain('did not send');
    expect(host.uploaded(declined.uploadUrl)!.bytes.length).toBe(0);
  });

  it('lists email attachments with the Teams files and serves them through the same signed links', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4000)]);
    await h.graph.deliver(composeEml({ from: 'pia@fabrikam.example', subject: 'Invoice is wrong', text: 'See attached.', attachments: [{ name: 'invoice.pdf', type: 'application/pdf', content: pdf }] }));
    await h.syncMail();
    const ticket = await db().selectFrom('tickets').select(['id', 'reference']).where('subject', '=', 'Invoice is wrong').executeTakeFirstOrThrow();
    const link = await linkFor(megan, ticket.reference);
    expect(link.pathname).toMatch(/\/api\/attachments\/e\d+$/);
    const response = await fetchLink(link);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await response.arrayBuffer()).equals(pdf)).toBe(true);
  });

  it('offers files only in a personal chat, where links are for the person alone', async () => {
    const { ref } = await openWithFile(Buffer.from('x'));
    const [answer] = await post(channelMessage(h, `files ${ref}`, { from: megan }));
    expect(textOf(answer)).toContain('only in your chat with me');
    expect(textOf(answer)).not.toContain('/api/attachments/');
    void personalConversationId;
  });
});

describe('files on tickets with ATTACHMENT_DIR and a small ATTACHMENT_MAX_BYTES', () => {
  let h: Harness;
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sd-teams-files-'));
    h = await startHarness({ env: { ATTACHMENT_DIR: dir, ATTACHMENT_MAX_BYTES: String(1024 * 1024), ATTACHMENT_LINK_SECRET: SECRET, TEAMS_FILE_HOSTS: host.base.replace(/:\d+$/, ':*') } });
  });
  afterEach(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a file to ATTACHMENT_DIR (owner-only) and back through its link; keeps one too large as its OneDrive link; a failed download loses nothing else', async () => {
    const small = randomBytes(800 * 1024);
    const large = randomBytes(1536 * 1024);
    const largeHome = `${host.base}/personal/alex/Documents/Microsoft Teams Chat Files/dump.bin`;
    const message = personalMessage(h, 'new Crash on start', {
      from: alex,
      attachments: [
        { contentType: FILE_INFO, name: 'crash.log', content: { downloadUrl: host.addDownload(small), uniqueId: 'a1', fileType: 'log' } },
        { contentType: FILE_INFO, name: 'dump.bin', contentUrl: largeHome, content: { downloadUrl: host.addDownload(large), uniqueId: 'a2', fileType: 'bin' } },
        // Its pre-authenticated URL has expired (the file host answers 401).
        { contentType: FILE_INFO, name: 'gone.txt', content: { downloadUrl: `${host.base}/download.aspx?tempauth=expired`, uniqueId: 'a3', fileType: 'txt' } },
      ],
    });
    expect((await h.post(message)).status).toBe(200);
    const [reply, note] = await h.connector.waitFor((c) => c.activityId === message.id, { count: 2 });
    expect(JSON.stringify(reply!.activity.attachments)).toContain('Created');
    expect(JSON.stringify(note!.activity.attachments)).toContain('Not kept: gone.txt (Teams answered 401');
    const db = h.service.database.db;
    const stored = await db.selectFrom('ticket_attachments').selectAll().orderBy('id').execute();
    expect(stored.map((r) => [r.name, r.storage, r.size])).toEqual([['crash.log', 'file', small.length], ['dump.bin', 'link', large.length]]);
    expect(stored[1]!.location).toBe(largeHome);
    // One file, named by the SHA-256 of its bytes (no temporary copy left), owner-only.
    expect(readdirSync(dir)).toEqual([createHash('sha256').update(small).digest('hex')]);
    expect(statSync(join(dir, stored[0]!.content_key!)).mode & 0o777).toBe(0o600);

    const ref = (await db.selectFrom('tickets').select('reference').executeTakeFirstOrThrow()).reference;
    const files = personalMessage(h, `files ${ref}`, { from: alex });
    await h.post(files);
    const [list] = await h.connector.waitFor((c) => c.activityId === files.id);
    const card = JSON.stringify(list!.activity.attachments);
    const link = new URL(/"url":"([^"]+\/api\/attachments\/[^"]+)"/.exec(card)![1]!.replace(/\\u0026/g, '&'));
    expect(card).toContain(`"url":"${largeHome}"`);
    expect(card).toContain('1.5 MB · too large to keep; in the sender’s OneDrive');
    const started = performance.now();
    const response = await fetch(`${h.service.url}${link.pathname}${link.search}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(small)).toBe(true);
    // 800 KB from disk through the link: measured 33-61 ms on this 2-core machine; the bound only catches a download that stalls.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('retention deletes the contents of Teams files on long-closed tickets like email attachments; the link then answers 410 and the row still names the file', async () => {
    await h.stop();
    h = await startHarness({ env: { RETENTION_DAYS: '30', ATTACHMENT_DIR: dir, ATTACHMENT_LINK_SECRET: SECRET, TEAMS_FILE_HOSTS: host.base.replace(/:\d+$/, ':*') } });
    const message = personalMessage(h, 'new Old printer', { from: alex, attachments: [{ ...DOWNLOAD_INFO, content: { ...DOWNLOAD_INFO.content, downloadUrl: host.addDownload(Buffer.from('old contents')) } }] });
    await h.post(message);
    await h.connector.waitFor((c) => c.activityId === message.id, { count: 2 });
    const db = h.service.database.db;
    const ticket = await db.selectFrom('tickets').select(['id', 'reference']).executeTakeFirstOrThrow();
    const files = personalMessage(h, `files ${ticket.reference}`, { from: alex });
    await h.post(files);
    const [list] = await h.connector.waitFor((c) => c.activityId === files.id);
    const link = new URL(/"url":"([^"]+\/api\/attachments\/[^"]+)"/.exec(JSON.stringify(list!.activity.attachments))![1]!.replace(/\\u0026/g, '&'));
    expect((await fetch(`${h.service.url}${link.pathname}${link.search}`)).status).toBe(200);

    await db.updateTable('tickets').set({ status: 'closed', is_open: 0, closed_at: Date.now() - 31 * 86_400_000 }).where('id', '=', ticket.id).execute();
    expect(await h.service.retention!.purge()).toBe(1);
    const row = await db.selectFrom('ticket_attachments').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name: 'file_example.txt', size: 12 });
    expect(row.purged_at).not.toBeNull();
    // Unused objects are deleted by the sweep once an hour has passed (a save may be reusing them).
    expect(readdirSync(dir)).toHaveLength(1);
    expect(await h.service.attachmentStores.sweep(Date.now() + RELEASE_GRACE_MS + 1)).toBe(1);
    expect(readdirSync(dir)).toHaveLength(0);
    expect((await fetch(`${h.service.url}${link.pathname}${link.search}`)).status).toBe(410);
    expect(await h.service.retention!.purge()).toBe(0);
  });
});

describe('a file host that hangs', () => {
  let h: Harness;
  beforeEach(async () => {
    // A short budget for the test; the service's default is 10 s, inside the Bot Service's 15 s.
    h = await startHarness({ env: { ATTACHMENT_LINK_SECRET: SECRET, TEAMS_FILE_HOSTS: host.base.replace(/:\d+$/, ':*') }, service: { filesTurnBudgetMs: 500 } });
  });
  afterEach(() => h.stop());

  it('cannot hold the turn past the budget for all of a message’s files: what arrived in time is kept, the rest is named', async () => {
    const bytes = randomBytes(4096);
    const message = personalMessage(h, 'new Screen flickers', {
      from: alex,
      attachments: [
        { contentType: FILE_INFO, name: 'first.log', content: { downloadUrl: host.addDownload(bytes), uniqueId: 'b1', fileType: 'log' } },
        { contentType: FILE_INFO, name: 'stuck.log', content: { downloadUrl: host.addHangingDownload(), uniqueId: 'b2', fileType: 'log' } },
      ],
    });
    const started = Date.now();
    expect((await h.post(message)).status).toBe(200);
    const [reply, note] = await h.connector.waitFor((c) => c.activityId === message.id, { count: 2 });
    // Well inside the Bot Service's patience even on a busy machine, where the hanging file alone would take its 15 s.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(JSON.stringify(reply!.activity.attachments)).toContain('Created');
    expect(JSON.stringify(note!.activity.attachments)).toContain('Not kept: stuck.log');
    const stored = await h.service.database.db.selectFrom('ticket_attachments').select(['name', 'size']).execute();
    expect(stored).toEqual([{ name: 'first.log', size: bytes.length }]);
  });
});
