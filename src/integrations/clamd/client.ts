import { connect, type Socket } from 'node:net';

/**
 * A client for clamd, ClamAV's scanning daemon, over TCP. It speaks the protocol of the clamd man page
 * (https://linux.die.net/man/8/clamd, and https://docs.clamav.net/manual/Usage/ClamdProtocol.html):
 * `zINSTREAM\0`, then the file as chunks of a 4-byte big-endian length and that many bytes, then a
 * zero-length chunk; clamd answers `stream: OK`, `stream: <signature> FOUND` or `<message> ERROR`,
 * NUL-terminated because the command was `z`-prefixed. Past clamd's StreamMaxLength it answers
 * `INSTREAM size limit exceeded` and closes the socket, possibly while we are still writing.
 *
 * The file is read as it is sent, one chunk at a time and waiting for the socket to drain, so memory
 * stays bounded whatever its size. Each call has one deadline covering connect, send and answer.
 * clamd's TCP socket is neither encrypted nor authenticated: keep it on a private network.
 */

export type ClamdVerdict = { infected: false } | { infected: true; signature: string };

export type ClamdFailure =
  /**
   * Nothing listened, or clamd hung up without a word and does not answer PING either: try again later.
   * (A hang-up while it still answers PING is `protocol`: see scan.)
   */
  | 'unreachable'
  /** The call ran out of time (a slow or stuck clamd, or a very large file). */
  | 'timeout'
  /** The file is larger than clamd's StreamMaxLength: it will never be scanned as it is configured. */
  | 'size-limit'
  /** clamd answered with an error about this file. */
  | 'scanner-error'
  /** clamd answered something this client does not understand. */
  | 'protocol';

export class ClamdError extends Error {
  constructor(
    readonly failure: ClamdFailure,
    message: string,
    /** For `unreachable`: the connection was made, and then closed without an answer. */
    readonly afterConnect = false,
  ) {
    super(message);
    this.name = 'ClamdError';
  }
}

export interface ClamdOptions {
  host: string;
  port: number;
  /** The longest one call (ping or scan) may take, from connect to answer. */
  timeoutMs: number;
  /** Largest chunk sent at once (default 64 KiB); larger reads are split. */
  chunkBytes?: number;
}

export { CLAMD_DEFAULT_PORT, parseClamdHost } from '../../domain/clamd-host.js';

const MAX_REPLY_BYTES = 4 * 1024;
const TERMINATOR = Buffer.alloc(4);

export class ClamdClient {
  private readonly chunkBytes: number;

  constructor(private readonly options: ClamdOptions) {
    this.chunkBytes = Math.max(1, options.chunkBytes ?? 64 * 1024);
  }

  get address(): string {
    return this.options.host.includes(':') ? `[${this.options.host}]:${this.options.port}` : `${this.options.host}:${this.options.port}`;
  }

  /** Resolves when clamd answers PONG; throws a ClamdError otherwise (for /readyz). */
  async ping(): Promise<void> {
    const reply = await this.converse(async (send) => send(Buffer.from('zPING\0')));
    if (reply !== 'PONG') throw new ClamdError('protocol', `clamd answered PING with "${printable(reply)}"`);
  }

  /** Streams `body` to clamd and returns its verdict; a ClamdError says why there is none. */
  async scan(body: AsyncIterable<Uint8Array>): Promise<ClamdVerdict> {
    try {
      return await this.scanOnce(body);
    } catch (error) {
      // clamd accepted the connection and then hung up without a word. That is an outage only if it
      // is down now; if it still answers PING, it was this file (clamd crashing or giving up on it):
      // a failure that uses one of the file's attempts rather than holding every file back forever.
      if (!(error instanceof ClamdError && error.failure === 'unreachable' && error.afterConnect)) throw error;
      try {
        await this.ping();
      } catch {
        throw error;
      }
      throw new ClamdError('protocol', `${error.message}; it answers PING, so it gave up on this file`);
    }
  }

  private async scanOnce(body: AsyncIterable<Uint8Array>): Promise<ClamdVerdict> {
    const reply = await this.converse(async (send, answered) => {
      await send(Buffer.from('zINSTREAM\0'));
      for await (const read of body) {
        for (let offset = 0; offset < read.length; offset += this.chunkBytes) {
          // clamd may answer before the end (size limit): stop reading the file then.
          if (answered()) return;
          const part = read.subarray(offset, offset + this.chunkBytes);
          const header = Buffer.alloc(4);
          header.writeUInt32BE(part.length, 0);
          await send(Buffer.concat([header, part]));
        }
      }
      await send(TERMINATOR);
    });
    return verdictOf(reply);
  }

  /**
   * One connection: `talk` writes (each `send` waits for the socket to drain), then the answer up to
   * its NUL is returned. A write that fails because clamd already answered and closed is not an error:
   * the answer is what counts.
   */
  private converse(talk: (send: (data: Buffer) => Promise<void>, answered: () => boolean) => Promise<void>): Promise<string> {
    const { host, port, timeoutMs } = this.options;
    return new Promise<string>((resolve, reject) => {
      const socket: Socket = connect({ host, port });
      socket.setNoDelay(true);
      let received = Buffer.alloc(0);
      let reply: string | undefined;
      let connected = false;
      let timedOut = false;
      let socketError: (Error & { code?: string }) | undefined;
      let readError: unknown;
      const timer = setTimeout(() => {
        timedOut = true;
        socket.destroy();
      }, timeoutMs);

      socket.on('data', (data: Buffer) => {
        if (reply !== undefined) return;
        received = Buffer.concat([received, data]);
        const end = received.indexOf(0);
        if (end >= 0 || received.length > MAX_REPLY_BYTES) {
          reply = received.subarray(0, end >= 0 ? end : MAX_REPLY_BYTES).toString('utf8').trim();
          socket.end();
        }
      });
      socket.on('error', (error: Error & { code?: string }) => {
        socketError ??= error;
      });
      socket.once('close', () => {
        clearTimeout(timer);
        // clamd closes after answering; an answer without its NUL (an older clamd, `n` framing) still counts.
        if (reply === undefined && received.length > 0 && !timedOut) reply = received.toString('utf8').replace(/\0[\s\S]*$/, '').trim();
        if (reply !== undefined) return resolve(reply);
        // The file could not be read: that is no fault of clamd's, and not a verdict.
        if (readError !== undefined) return reject(readError);
        if (timedOut) return reject(new ClamdError('timeout', `clamd at ${this.address} did not answer within ${timeoutMs} ms`));
        const why = socketError?.code ?? socketError?.message ?? 'the connection closed';
        reject(new ClamdError('unreachable', connected ? `clamd at ${this.address} closed the connection without answering (${why})` : `could not connect to clamd at ${this.address} (${why})`, connected));
      });

      const send = (data: Buffer) =>
        new Promise<void>((done, fail) => {
          if (socket.destroyed || !socket.writable) return fail(new SocketClosed());
          if (socket.write(data)) return done();
          const onDrain = () => {
            socket.off('close', onClose);
            done();
          };
          const onClose = () => {
            socket.off('drain', onDrain);
            fail(new SocketClosed());
          };
          socket.once('drain', onDrain);
          socket.once('close', onClose);
        });

      socket.once('connect', () => {
        connected = true;
        talk(send, () => reply !== undefined || socket.destroyed).catch((error: unknown) => {
          // A failed write: clamd hung up (its answer, if any, arrives before 'close'). A failed read of
          // the file: give up on this scan without an answer.
          if (!(error instanceof SocketClosed)) {
            readError = error;
            socket.destroy();
          }
        });
      });
    });
  }
}

class SocketClosed extends Error {
  constructor() {
    super('the connection to clamd closed while sending');
  }
}

/** clamd's answer to INSTREAM as a verdict, or the ClamdError it means. */
export function verdictOf(reply: string): ClamdVerdict {
  if (/^stream: OK$/.test(reply)) return { infected: false };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found) return { infected: true, signature: printable(found[1]!).slice(0, 200) };
  if (/size limit exceeded/i.test(reply)) return failWith('size-limit', 'the file is larger than clamd accepts (its StreamMaxLength)');
  if (/ERROR$/.test(reply)) return failWith('scanner-error', `clamd could not scan the file: ${printable(reply.replace(/^stream:\s*/, '').replace(/\s*ERROR$/, '')).slice(0, 200)}`);
  return failWith('protocol', `clamd answered "${printable(reply).slice(0, 200)}"`);
}

function failWith(failure: ClamdFailure, message: string): never {
  throw new ClamdError(failure, message);
}

/** Only printable characters: signature names and errors end up on cards and in logs. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}
