import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A clamd on loopback that speaks its TCP protocol (https://linux.die.net/man/8/clamd): `zPING\0` →
 * `PONG\0`; `zINSTREAM\0` then chunks of a 4-byte big-endian length and data, ended by a zero-length
 * chunk → `stream: OK\0`, or `stream: Win.Test.EICAR_HDB-1 FOUND\0` when the EICAR test string is in
 * the stream; more than `streamMaxLength` bytes → `INSTREAM size limit exceeded. ERROR\0` and the
 * connection closed at once, as clamd does. It can be told to answer slowly, never, or to hang up on
 * every connection (clamd down), and records what it was sent.
 */

/**
 * The EICAR anti-virus test file (https://www.eicar.org/download-anti-malware-testfile/), put together
 * from parts at run time so that no scanner on a developer's machine flags this source file.
 */
export function eicar(): Buffer {
  return Buffer.from(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-', 'ANTIVIRUS-', 'TEST-FILE!$H+H*'].join(''), 'latin1');
}

export const EICAR_SIGNATURE = 'Win.Test.EICAR_HDB-1';

export interface RecordedScan {
  /** The length of each data chunk, in the order sent (the terminator not included). */
  chunkSizes: number[];
  bytes: number;
  /** Whether the zero-length terminator arrived. */
  terminated: boolean;
  answer: string | undefined;
}

export class FakeClamd {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  readonly commands: string[] = [];
  readonly scans: RecordedScan[] = [];
  /** Answer a scan this long after its terminator. */
  delayMs = 0;
  /** Never answer a scan (the client's timeout must fire). */
  hang = false;
  /** Hang up on every connection before reading anything (clamd down). */
  refuse = false;
  /** clamd.conf's StreamMaxLength. */
  streamMaxLength = 1024 * 1024;
  /** Hang up without answering on a scan whose contents include these bytes (clamd choking on one file), while PING still works. */
  hangUpOn: Buffer | undefined;
  /** Answer every scan with this instead of a verdict (e.g. `stream: Can't allocate memory ERROR`). */
  errorAnswer: string | undefined;
  private waiters: Array<() => void> = [];
  /** While held, verdicts wait for release() (a scan in progress, for as long as a test needs). */
  private held: Array<() => void> | undefined;

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const go of waiting) go();
  }

  /** How many scans are being held, waiting for release(). */
  get waiting(): number {
    return this.held?.length ?? 0;
  }

  async start(): Promise<this> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  /** CLAMD_HOST for this fake. */
  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Resolves once `count` scans are held (hold()), waiting for release(). */
  async heldScans(count: number): Promise<void> {
    while (this.waiting < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once `count` scans have been answered in all. */
  async answered(count: number): Promise<void> {
    while (this.scans.filter((s) => s.answer !== undefined).length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    if (this.refuse) {
      socket.destroy();
      return;
    }
    let buffered = Buffer.alloc(0);
    let command: string | undefined;
    let scan: RecordedScan | undefined;
    const received: Buffer[] = [];
    let total = 0;
    const answer = (text: string, close = true) => {
      if (scan) scan.answer = text;
      socket.write(`${text}\0`);
      if (close) socket.end();
      this.notify();
    };
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      if (command === undefined) {
        const end = buffered.indexOf(0);
        if (end < 0) return;
        command = buffered.subarray(0, end).toString('latin1');
        buffered = buffered.subarray(end + 1);
        this.commands.push(command);
        if (command === 'zPING') return answer('PONG');
        if (command !== 'zINSTREAM') return answer('UNKNOWN COMMAND');
        scan = { chunkSizes: [], bytes: 0, terminated: false, answer: undefined };
        this.scans.push(scan);
      }
      if (!scan || scan.terminated || scan.answer !== undefined) return;
      while (buffered.length >= 4) {
        const length = buffered.readUInt32BE(0);
        if (length === 0) {
          scan.terminated = true;
          buffered = buffered.subarray(4);
          this.verdict(Buffer.concat(received), answer, socket);
          return;
        }
        if (buffered.length < 4 + length) return;
        scan.chunkSizes.push(length);
        total += length;
        scan.bytes = total;
        if (total > this.streamMaxLength) {
          // clamd answers and hangs up at once, whatever the client is still sending (which is read and dropped).
          answer('INSTREAM size limit exceeded. ERROR');
          return;
        }
        received.push(Buffer.from(buffered.subarray(4, 4 + length)));
        buffered = buffered.subarray(4 + length);
      }
    });
  }

  private verdict(contents: Buffer, answer: (text: string) => void, socket?: Socket): void {
    if (this.hang) return;
    if (this.hangUpOn && contents.includes(this.hangUpOn)) {
      socket?.resetAndDestroy();
      this.notify();
      return;
    }
    if (this.held) {
      this.held.push(() => this.verdict(contents, answer, socket));
      this.notify();
      return;
    }
    const text = this.errorAnswer ?? (contents.includes(eicar()) ? `stream: ${EICAR_SIGNATURE} FOUND` : 'stream: OK');
    if (this.delayMs > 0) setTimeout(() => answer(text), this.delayMs);
    else answer(text);
  }
}
