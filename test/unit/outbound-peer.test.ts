import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRetryAfter } from '../../src/domain/backoff.js';
import { HubSpotClient, HubSpotError } from '../../src/integrations/hubspot/client.js';
import { OutboundPeer, type PeerOptions } from '../../src/integrations/outbound/peer.js';

/** A vendor's typed error, as GraphRequestError and HubSpotError are. */
class PeerTestError extends Error {
  constructor(
    readonly failure: 'throttled' | 'transient' | 'invalid',
    message: string,
    readonly details: { retryAfterMs?: number; refused?: boolean } = {},
  ) {
    super(message);
  }
  get retryable() {
    return this.failure !== 'invalid';
  }
}

const vendor = {
  toError: (error: unknown, what: string) => (error instanceof PeerTestError ? error : new PeerTestError('transient', `could not ${what}: ${String(error)}`)),
  timedOut: (what: string) => new PeerTestError('transient', `no answer in time to ${what}`),
  paused: (what: string, retryAfterMs: number) => new PeerTestError('throttled', `paused; could not ${what}`, { retryAfterMs }),
  notTaken: (failure: PeerTestError) => failure.details.refused === true,
};

const policy: PeerOptions = { attempts: 4, timeoutMs: 5_000, maxInlineWaitMs: 30_000, backoff: { baseMs: 1_000, capMs: 8_000, jitter: 0.2 } };

/** A scripted peer: each call to `request` takes the next outcome. */
function script(outcomes: Array<PeerTestError | 'ok'>) {
  const calls: number[] = [];
  const request = async () => {
    calls.push(Date.now());
    const next = outcomes.shift() ?? 'ok';
    if (next !== 'ok') throw next;
    return 'answer';
  };
  return { calls, request };
}

describe('outbound calls to a peer', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('waits what Retry-After asks, never less, and pauses every call to that peer meanwhile', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-11-22T10:00:00Z') });
    const peer = new OutboundPeer('test', vendor, policy);
    const first = script([new PeerTestError('throttled', '429', { retryAfterMs: 2_000 })]);
    const second = script([]);
    const a = peer.call('read', first.request);
    await vi.advanceTimersByTimeAsync(0);
    const b = peer.call('write', second.request);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await expect(a).resolves.toBe('answer');
    await expect(b).resolves.toBe('answer');
    expect(first.calls[1]! - first.calls[0]!).toBe(2_000);
    expect(second.calls[0]! - first.calls[0]!).toBe(2_000);
    expect(peer.counters).toEqual({ requests: 3, throttled: 1 });
  });

  it('backs off exponentially with jitter between transient failures', async () => {
    vi.useFakeTimers({ now: 0 });
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // the middle of the jitter band
    const peer = new OutboundPeer('test', vendor, policy);
    const flaky = script([new PeerTestError('transient', '503'), new PeerTestError('transient', '503'), new PeerTestError('transient', '503')]);
    const call = peer.call('read', flaky.request);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(call).resolves.toBe('answer');
    expect(flaky.calls).toEqual([0, 1_000, 3_000, 7_000]);
  });

  it('gives up after the attempts it is allowed, with the vendor error, and at once on a failure retrying cannot fix', async () => {
    vi.useFakeTimers({ now: 0 });
    const peer = new OutboundPeer('test', vendor, { ...policy, attempts: 3 });
    const down = script(Array.from({ length: 5 }, () => new PeerTestError('transient', '503')));
    const call = peer.call('read', down.request);
    const outcome = expect(call).rejects.toMatchObject({ failure: 'transient', message: '503' });
    await vi.advanceTimersByTimeAsync(60_000);
    await outcome;
    expect(down.calls).toHaveLength(3);

    const bad = script([new PeerTestError('invalid', '400')]);
    await expect(peer.call('write', bad.request)).rejects.toBeInstanceOf(PeerTestError);
    expect(bad.calls).toHaveLength(1);
  });

  it('hands a long Retry-After back to the caller, and refuses calls without sending them until it has passed', async () => {
    vi.useFakeTimers({ now: 0 });
    const peer = new OutboundPeer('test', vendor, policy);
    const throttled = script([new PeerTestError('throttled', '429', { retryAfterMs: 3_600_000 })]);
    await expect(peer.call('read', throttled.request)).rejects.toMatchObject({ failure: 'throttled', details: { retryAfterMs: 3_600_000 } });
    const later = script([]);
    await expect(peer.call('read', later.request)).rejects.toMatchObject({ message: 'paused; could not read' });
    expect(later.calls).toHaveLength(0);
    expect(peer.pausedUntil).toBe(3_600_000);
    await vi.advanceTimersByTimeAsync(3_600_000);
    await expect(peer.call('read', later.request)).resolves.toBe('answer');
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const peer = new OutboundPeer('test', vendor, { ...policy, concurrency: 2 });
    let inFlight = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const request = async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise<void>((resolve) => gates.push(resolve));
      inFlight--;
    };
    const calls = Array.from({ length: 5 }, () => peer.call('read', request));
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    while (gates.length > 0) {
      gates.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(calls);
    expect(peak).toBe(2);
  });
});

describe('a call that must not happen twice (idempotent: false)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const once = { idempotent: false } as const;

  it('is not tried again after a 5xx or a timeout, where the peer may have done it, though an idempotent call is', async () => {
    vi.useFakeTimers({ now: 0 });
    const peer = new OutboundPeer('test', vendor, policy);
    const failing = script([new PeerTestError('transient', '503')]);
    await expect(peer.call('send', failing.request, undefined, once)).rejects.toMatchObject({ failure: 'transient', message: '503' });
    expect(failing.calls).toHaveLength(1);

    let sent = 0;
    const silent = () => {
      sent++;
      return new Promise<never>(() => undefined); // accepted, and the answer is lost
    };
    const timedOut = expect(peer.call('send', silent, undefined, once)).rejects.toMatchObject({ message: 'no answer in time to send' });
    await vi.advanceTimersByTimeAsync(60_000);
    await timedOut;
    expect(sent).toBe(1);

    const idempotent = script([new PeerTestError('transient', '503')]);
    const read = peer.call('read', idempotent.request);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(read).resolves.toBe('answer');
    expect(idempotent.calls).toHaveLength(2);
  });

  it('is tried again when the peer certainly did not take it: throttled, refused, or the token failed before it went', async () => {
    vi.useFakeTimers({ now: 0 });
    const peer = new OutboundPeer('test', vendor, policy);
    const throttledThenRefused = script([new PeerTestError('throttled', '429', { retryAfterMs: 1_000 }), new PeerTestError('transient', 'ECONNREFUSED', { refused: true })]);
    const call = peer.call('send', throttledThenRefused.request, undefined, once);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(call).resolves.toBe('answer');
    expect(throttledThenRefused.calls).toHaveLength(3);

    let tokenFailures = 1;
    const token = async () => {
      if (tokenFailures-- > 0) throw new PeerTestError('transient', 'token endpoint 500');
    };
    const afterToken = script([]);
    const sending = peer.call('send', afterToken.request, token, once);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(sending).resolves.toBe('answer');
    expect(afterToken.calls).toHaveLength(1);
  });
});

describe('a peer that never answers', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** A loopback server that accepts requests and never answers; resolves when a client's socket closes. */
  async function silentServer() {
    let closed!: () => void;
    const socketClosed = new Promise<void>((resolve) => (closed = resolve));
    let requests = 0;
    server = createServer(() => {
      requests++; // never answered
    });
    server.on('connection', (socket: Socket) => socket.on('close', () => closed()));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, socketClosed, requests: () => requests };
  }

  it('aborts the request, socket and all, when the attempt times out (the signal reaches fetch)', async () => {
    const silent = await silentServer();
    const peer = new OutboundPeer('test', vendor, { ...policy, attempts: 1, timeoutMs: 1_000 });
    const started = Date.now();
    await expect(peer.call('read', (signal) => fetch(silent.url, { signal }))).rejects.toMatchObject({ message: 'no answer in time to read' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await silent.socketClosed;
    expect(silent.requests()).toBe(1);
  });

  it('aborts HubSpot requests too, though its library takes no signal (through the agent)', async () => {
    const silent = await silentServer();
    const client = new HubSpotClient({ accessToken: 'pat-test', baseUrl: silent.url, limitPer10s: 100, dailyLimit: 1_000 }, { attempts: 1, timeoutMs: 1_000 });
    await expect(client.probe()).rejects.toEqual(new HubSpotError('transient', 'HubSpot did not answer in time to reach HubSpot'));
    await silent.socketClosed;
    expect(silent.requests()).toBe(1);
  });
});

describe('Retry-After (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('Sun, 22 Nov 2026 10:00:00 GMT');
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Sun, 22 Nov 2026 10:00:05 GMT', 5_000], // IMF-fixdate
    ['Sunday, 22-Nov-26 10:00:07 GMT', 7_000], // obsolete RFC 850 date
    ['Sun Nov 22 10:00:09 2026', 9_000], // obsolete asctime date, which is in GMT
    ['Sun, 22 Nov 2026 09:00:00 GMT', 0], // already past: go now
  ])('%j is %d ms from now', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each(['soon', '-5', '', undefined])('%j is no Retry-After', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
