import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseClamdHost } from '../../src/domain/clamd-host.js';
import { ClamdClient, ClamdError, verdictOf } from '../../src/integrations/clamd/client.js';
import { EICAR_SIGNATURE, eicar, FakeClamd } from '../fakes/clamd.js';

/** The clamd client against a loopback clamd speaking INSTREAM (test/fakes/clamd.ts). */

let clamd: FakeClamd;
beforeEach(async () => {
  clamd = await new FakeClamd().start();
});
afterEach(() => clamd.stop());

const client = (options: { timeoutMs?: number; chunkBytes?: number; port?: number } = {}) => new ClamdClient({ host: '127.0.0.1', port: options.port ?? clamd.port, timeoutMs: options.timeoutMs ?? 5_000, ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}) });
const failureOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ClamdError);
  return error as ClamdError;
};

describe('clamd client', () => {
  it('sends the file as length-prefixed chunks no larger than the chunk size, ends with a zero-length chunk, and reads OK as clean', async () => {
    const file = Buffer.alloc(10_000, 7);
    // Reads of uneven sizes, as a file or network stream gives them.
    const verdict = await client({ chunkBytes: 4096 }).scan(Readable.from([file.subarray(0, 5000), file.subarray(5000, 5001), file.subarray(5001)]));
    expect(verdict).toEqual({ infected: false });
    expect(clamd.commands).toEqual(['zINSTREAM']);
    expect(clamd.scans[0]).toMatchObject({ chunkSizes: [4096, 904, 1, 4096, 903], bytes: 10_000, terminated: true, answer: 'stream: OK' });
  });

  it('reports the signature clamd found, even when the test string straddles two chunks', async () => {
    const file = Buffer.concat([Buffer.from('harmless start '), eicar(), Buffer.from(' end')]);
    const verdict = await client({ chunkBytes: 20 }).scan(Readable.from([file]));
    expect(verdict).toEqual({ infected: true, signature: EICAR_SIGNATURE });
  });

  it('scans an empty file (only the terminator)', async () => {
    expect(await client().scan(Readable.from([]))).toEqual({ infected: false });
    expect(clamd.scans[0]).toMatchObject({ chunkSizes: [], terminated: true });
  });

  it('stops sending and says so when the file is larger than StreamMaxLength', async () => {
    clamd.streamMaxLength = 100_000;
    let produced = 0;
    // 10 MB offered lazily: the client stops reading once clamd has answered.
    const big = Readable.from((function* () {
      for (let i = 0; i < 160; i++) {
        produced += 65_536;
        yield Buffer.alloc(65_536, 1);
      }
    })());
    const error = await failureOf(client().scan(big));
    expect(error.failure).toBe('size-limit');
    expect(error.message).toContain('StreamMaxLength');
    expect(produced).toBeLessThan(160 * 65_536);
  });

  it('passes on an error clamd answers, and refuses an answer it does not understand', async () => {
    clamd.errorAnswer = "stream: Can't allocate memory ERROR";
    const error = await failureOf(client().scan(Readable.from([Buffer.from('x')])));
    expect(error).toMatchObject({ failure: 'scanner-error' });
    expect(error.message).toContain("Can't allocate memory");
    expect(() => verdictOf('stream: maybe')).toThrow(/clamd answered "stream: maybe"/);
    // Control characters in a signature never reach a card or a log.
    expect(verdictOf('stream: Evil\u001b[31m FOUND')).toEqual({ infected: true, signature: 'Evil?[31m' });
  });

  it('gives up after its timeout when clamd does not answer', async () => {
    clamd.hang = true;
    const started = Date.now();
    const error = await failureOf(client({ timeoutMs: 300 }).scan(Readable.from([Buffer.from('slow')])));
    expect(error.failure).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('waits for a slow clamd within its timeout', async () => {
    clamd.delayMs = 200;
    expect(await client({ timeoutMs: 5_000 }).scan(Readable.from([Buffer.from('fine')]))).toEqual({ infected: false });
  });

  it('says clamd is unreachable when nothing listens or it hangs up without answering', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await failureOf(client({ port }).scan(Readable.from([Buffer.from('x')])));
    expect(refused.failure).toBe('unreachable');
    expect(refused.message).toContain('ECONNREFUSED');
    clamd.refuse = true;
    expect((await failureOf(client().scan(Readable.from([Buffer.from('x')])))).failure).toBe('unreachable');
    expect((await failureOf(client().ping())).failure).toBe('unreachable');
  });

  it('blames the file, not an outage, when clamd hangs up on a scan but still answers PING', async () => {
    clamd.hangUpOn = Buffer.from('CHOKE');
    try {
      const hungUp = await failureOf(client().scan(Readable.from([Buffer.from('xxCHOKExx')])));
      expect(hungUp.failure).toBe('protocol');
      expect(hungUp.message).toContain('gave up on this file');
    } finally {
      clamd.hangUpOn = undefined;
    }
  });

  it('pings', async () => {
    await client().ping();
    expect(clamd.commands).toEqual(['zPING']);
  });

  it('does not hide a file that could not be read behind a clamd failure', async () => {
    const broken = new Readable({ read() { this.destroy(new Error('disk gone')); } });
    await expect(client().scan(broken)).rejects.toThrow('disk gone');
  });

  it('reads CLAMD_HOST', () => {
    expect(parseClamdHost('clamav:3310')).toEqual({ host: 'clamav', port: 3310 });
    expect(parseClamdHost('clamav')).toEqual({ host: 'clamav', port: 3310 });
    expect(parseClamdHost('[::1]:3311')).toEqual({ host: '::1', port: 3311 });
    expect(parseClamdHost('tcp://clamav:3310')).toHaveProperty('error');
    expect(parseClamdHost('clamav:99999')).toHaveProperty('error');
  });
});
