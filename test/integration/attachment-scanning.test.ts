import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClamdClient } from '../../src/integrations/clamd/client.js';
import { createLogger } from '../../src/logger.js';
import { AttachmentScanning, type ScanResult } from '../../src/services/attachments/scanning.js';
import { claimDueScans, recordScanOutcome } from '../../src/store/attachment-scans.js';
import type { Database } from '../../src/store/database.js';
import { addTicketAttachments, attachmentBytes, listTicketAttachments } from '../../src/store/ticket-attachments.js';
import { EICAR_SIGNATURE, eicar, FakeClamd } from '../fakes/clamd.js';
import { engines } from '../support/databases.js';

/**
 * The scan queue and its worker's rules against a real store (SQLite, and Postgres when configured)
 * and the loopback clamd: verdicts, files clamd cannot take, errors that use up attempts, outages that
 * do not, and leases that keep two replicas off the same file.
 */

let clamd: FakeClamd;
beforeAll(async () => {
  clamd = await new FakeClamd().start();
});
afterAll(() => clamd.stop());

for (const engine of engines) {
  describe(`malware scan queue (${engine.name})`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    let now: number;
    let verdicts: Array<{ ticketId: number; results: readonly ScanResult[] }>;
    const db = () => database.db;

    beforeEach(async () => {
      ({ database, cleanup } = await engine.open());
      now = 1_800_000_000_000;
      verdicts = [];
      Object.assign(clamd, { hang: false, refuse: false, errorAnswer: undefined, hangUpOn: undefined, streamMaxLength: 1024 * 1024 });
      const person = await db().insertInto('people').values({ teams_id: '29:alex', aad_object_id: 'aad-alex', tenant_id: 't', name: 'Alex', email: null, role: 'requester', created_at: now, updated_at: now, time_zone: null, quiet_from: null, quiet_until: null }).returning('id').executeTakeFirstOrThrow();
      await db()
        .insertInto('tickets')
        .values({ id: 1, reference: 'INC-1', type: 'incident', subject: 'files', description: '', status: 'open', priority: 'P3', requester_id: Number(person.id), assignee_id: null, team_id: null, source: 'chat', created_at: now, updated_at: now, first_response_at: null, resolved_at: null, closed_at: null, version: 1, is_open: 1, tier: 'standard', sla_clocks: null, first_response_due_at: null, resolution_due_at: null, sla_due_at: null, next_sla_check_at: null })
        .execute();
    });
    afterEach(async () => {
      clamd.release();
      await cleanup();
    });

    const keep = (files: Array<{ name: string; bytes: Buffer }>) =>
      addTicketAttachments(db(), files.map((f) => ({ ticketId: 1, origin: 'teams-file' as const, sourceId: null, name: f.name, contentType: 'application/octet-stream', size: f.bytes.length, visibility: 'public' as const, authorId: null, storage: 'database' as const, content: f.bytes, location: null, scanState: 'pending' as const })), now);
    const files = () => listTicketAttachments(db(), 1, { includeInternal: true });
    let storeDown = false;
    /** The store answers "no such object" (a copy missing, a store without settings). */
    let copyMissing = false;
    /** The store's stream ends early. */
    let shortRead = false;
    const scanner = (owner: string, timeoutMs = 5_000) =>
      new AttachmentScanning({
        db: db(),
        scanner: new ClamdClient({ host: '127.0.0.1', port: clamd.port, timeoutMs }),
        contents: async (a) => {
          if (storeDown) throw new Error('the attachment store did not answer');
          if (copyMissing) return null;
          const bytes = await attachmentBytes(db(), a.key);
          return bytes ? Readable.from([shortRead ? bytes.subarray(0, 1) : bytes]) : null;
        },
        onScanned: async (ticketId, results) => void verdicts.push({ ticketId, results }),
        logger: createLogger('silent'),
        owner,
        clock: () => now,
        random: () => 0.5,
        options: { maxAttempts: 3, backoff: { baseMs: 1_000, capMs: 60_000, jitter: 0 }, leaseMs: 30_000 },
      });

    it('records clean and infected verdicts and tells the ticket once per batch', async () => {
      await keep([{ name: 'ok.txt', bytes: Buffer.from('fine') }, { name: 'bad.exe', bytes: eicar() }]);
      expect(await scanner('a').nextDueAt()).toBe(0);
      expect(await scanner('a').runBatch()).toBe(2);
      expect((await files()).map((f) => [f.name, f.scan.state, f.scan.verdict, f.scan.scannedAt])).toEqual([
        ['ok.txt', 'clean', null, now],
        ['bad.exe', 'infected', EICAR_SIGNATURE, now],
      ]);
      expect(verdicts).toEqual([{ ticketId: 1, results: [{ name: 'ok.txt', state: 'clean', verdict: null }, { name: 'bad.exe', state: 'infected', verdict: EICAR_SIGNATURE }] }]);
      expect(await scanner('a').nextDueAt()).toBeUndefined();
    });

    it('fails a file larger than StreamMaxLength at once: no retry can change that', async () => {
      clamd.streamMaxLength = 1_000;
      await keep([{ name: 'huge.iso', bytes: Buffer.alloc(50_000, 3) }]);
      await scanner('a').runBatch();
      const [file] = await files();
      expect(file!.scan).toMatchObject({ state: 'failed' });
      expect(file!.scan.verdict).toContain('StreamMaxLength');
      expect(verdicts[0]!.results[0]).toMatchObject({ name: 'huge.iso', state: 'failed' });
    });

    it('retries a file clamd errors on with backoff, and fails it after the last attempt', async () => {
      clamd.errorAnswer = "stream: Can't allocate memory ERROR";
      await keep([{ name: 'a.bin', bytes: Buffer.from('x') }]);
      const worker = scanner('a');
      await worker.runBatch();
      let [file] = await files();
      expect(file!.scan.state).toBe('pending');
      expect(await worker.nextDueAt()).toBe(now + 1_000);
      // Not due yet: nothing is scanned.
      expect(await worker.runBatch()).toBe(0);
      now += 1_000;
      await worker.runBatch();
      expect(await worker.nextDueAt()).toBe(now + 2_000);
      now += 2_000;
      await worker.runBatch();
      [file] = await files();
      expect(file!.scan.state).toBe('failed');
      expect(file!.scan.verdict).toContain("Can't allocate memory");
      expect(clamd.scans.filter((s) => s.answer?.includes('allocate')).length).toBeGreaterThanOrEqual(3);
    });

    it('never lets a file whose bytes could not be read pass as unscanned', async () => {
      storeDown = true;
      await keep([{ name: 'a.txt', bytes: Buffer.from('a') }]);
      await scanner('a').runBatch();
      storeDown = false;
      const [file] = await files();
      expect(file!.scan).toMatchObject({ state: 'pending', verdict: 'the attachment store did not answer' });
      now += 1_000;
      await scanner('a').runBatch();
      expect((await files())[0]!.scan.state).toBe('clean');
    });

    it('never records a file whose copy is missing, or reads short, as unscanned (downloadable): it waits, then fails', async () => {
      copyMissing = true;
      await keep([{ name: 'gone.bin', bytes: Buffer.from('missing copy') }]);
      const worker = scanner('a');
      try {
        await worker.runBatch();
        expect((await files())[0]!.scan).toMatchObject({ state: 'pending', verdict: expect.stringContaining('could not be read') });
        now += 1_000;
        await worker.runBatch();
        now += 2_000;
        await worker.runBatch();
        expect((await files())[0]!.scan.state).toBe('failed');
      } finally {
        copyMissing = false;
      }

      shortRead = true;
      await keep([{ name: 'short.bin', bytes: Buffer.from('only part of this arrives') }]);
      try {
        await worker.runBatch();
        const short = (await files()).find((f) => f.name === 'short.bin')!;
        expect(short.scan).toMatchObject({ state: 'pending', verdict: 'only 1 of the file\'s 25 bytes could be read' });
      } finally {
        shortRead = false;
      }
    });

    it('counts clamd hanging up on one file (while it answers PING) against that file, and scans the others', async () => {
      clamd.hangUpOn = Buffer.from('CHOKE');
      await keep([{ name: 'choke.bin', bytes: Buffer.from('xxCHOKExx') }, { name: 'fine.txt', bytes: Buffer.from('fine') }]);
      const worker = scanner('a');
      expect(await worker.runBatch()).toBe(2);
      expect((await files()).map((f) => f.scan.state)).toEqual(['pending', 'clean']);
      expect(Number((await db().selectFrom('ticket_attachments').select('scan_attempts').where('name', '=', 'choke.bin').executeTakeFirstOrThrow()).scan_attempts)).toBe(1);
      now += 1_000;
      await worker.runBatch();
      now += 2_000;
      await worker.runBatch();
      expect((await files())[0]!.scan).toMatchObject({ state: 'failed', verdict: expect.stringContaining('gave up on this file') });
    });

    it('keeps files pending while clamd is down, without using up their attempts', async () => {
      clamd.refuse = true;
      await keep([{ name: 'a.txt', bytes: Buffer.from('a') }, { name: 'b.txt', bytes: Buffer.from('b') }]);
      const worker = scanner('a');
      for (let round = 0; round < 5; round++) {
        await worker.runBatch();
        now = (await worker.nextDueAt())!;
      }
      expect((await files()).map((f) => f.scan.state)).toEqual(['pending', 'pending']);
      expect(worker.lastError).toContain('clamd');
      const attempts = await db().selectFrom('ticket_attachments').select('scan_attempts').execute();
      expect(attempts.map((a) => Number(a.scan_attempts))).toEqual([0, 0]);
      clamd.refuse = false;
      await worker.runBatch();
      expect((await files()).map((f) => f.scan.state)).toEqual(['clean', 'clean']);
      expect(worker.lastError).toBeUndefined();
    });

    it('renews a lease before each scan of a batch, and neither scans nor reports a file another replica took over', async () => {
      await keep([{ name: 'one', bytes: Buffer.from('1') }, { name: 'two', bytes: Buffer.from('2') }]);
      const scansBefore = clamd.scans.length;
      clamd.hold();
      const a = scanner('replica-a');
      const first = a.runBatch();
      await clamd.heldScans(1);
      // The first scan outlasts the batch's leases (30 s): replica B takes both files over.
      now += 40_000;
      expect(await claimDueScans(db(), { now, limit: 10, leaseMs: 30_000, owner: 'replica-b' })).toHaveLength(2);
      clamd.release();
      await first;
      expect(clamd.scans.length - scansBefore).toBe(1);
      expect(verdicts).toEqual([]);
      const owners = await db().selectFrom('ticket_attachments').select(['scan_state', 'scan_lease_owner']).orderBy('id').execute();
      expect(owners).toEqual([{ scan_state: 'pending', scan_lease_owner: 'replica-b' }, { scan_state: 'pending', scan_lease_owner: 'replica-b' }]);
    });

    it('never lets two replicas scan the same file, and takes over a file whose scanner died once its lease runs out', async () => {
      await keep([{ name: 'one', bytes: Buffer.from('1') }, { name: 'two', bytes: Buffer.from('2') }]);
      const scansBefore = clamd.scans.length;
      clamd.hold();
      const a = scanner('replica-a');
      const first = a.runBatch();
      await clamd.heldScans(1);
      // Replica B looks while A holds both files.
      expect(await scanner('replica-b').runBatch()).toBe(0);
      clamd.release();
      expect(await first).toBe(2);
      expect(clamd.scans.length - scansBefore).toBe(2);

      // A third file is claimed by a replica that then dies: no one else takes it before its lease ends.
      await keep([{ name: 'three', bytes: Buffer.from('3') }]);
      expect(await claimDueScans(db(), { now, limit: 10, leaseMs: 30_000, owner: 'dead' })).toHaveLength(1);
      expect(await scanner('replica-b').runBatch()).toBe(0);
      expect(await scanner('replica-b').nextDueAt()).toBe(now + 30_000);
      now += 30_001;
      expect(await scanner('replica-b').runBatch()).toBe(1);
      // The dead replica's late verdict is not written over the live one's.
      const three = (await files()).find((f) => f.name === 'three')!;
      expect(await recordScanOutcome(db(), { table: 'ticket_attachments', id: Number(three.key.slice(1)) }, 'dead', { state: 'infected', verdict: 'late', now, attempts: 1 })).toBe(false);
      expect((await files()).map((f) => f.scan.state)).toEqual(['clean', 'clean', 'clean']);
    });
  });
}
