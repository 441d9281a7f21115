import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressGuard, AddressRefusedError, classifyAddress, refusalReason, type Resolver } from '../../src/integrations/outbound/address-guard.js';

// The SSRF guard of outbound webhooks: which addresses are refused, that every resolved address is
// checked, and that the check sits where Node connects (lookup), with IP literals handled apart
// because Node never looks them up.

const none = {};

describe('which addresses are refused', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.255.254', 'a loopback address'],
    ['169.254.169.254', 'a link-local address (cloud metadata)'],
    ['169.254.10.20', 'a link-local address'],
    ['10.0.0.1', 'a private address (RFC 1918)'],
    ['172.16.0.1', 'a private address (RFC 1918)'],
    ['172.31.255.255', 'a private address (RFC 1918)'],
    ['192.168.1.10', 'a private address (RFC 1918)'],
    ['100.64.0.1', 'a carrier-grade NAT address (RFC 6598)'],
    ['0.0.0.0', 'an unspecified address'],
    ['224.0.0.251', 'a multicast address'],
    ['255.255.255.255', 'the broadcast address'],
    ['240.0.0.1', 'a reserved or special-purpose address'],
    ['192.0.2.1', 'a reserved or special-purpose address'],
    ['::1', 'a loopback address'],
    ['::', 'the unspecified address'],
    ['fe80::1', 'a link-local address'],
    ['fc00::1', 'a unique local address (RFC 4193)'],
    ['fd12:3456:789a::1', 'a unique local address (RFC 4193)'],
    ['ff02::1', 'a multicast address'],
    ['2001:db8::1', 'a reserved or special-purpose address'],
    ['::ffff:127.0.0.1', 'an IPv4-mapped form of 127.0.0.1, a loopback address'],
    ['::ffff:169.254.169.254', 'an IPv4-mapped form of 169.254.169.254, a link-local address (cloud metadata)'],
    ['::ffff:a00:1', 'an IPv4-mapped form of 10.0.0.1, a private address'],
    ['64:ff9b::7f00:1', 'a NAT64 form of 127.0.0.1, a loopback address'],
    ['::7f00:1', 'an IPv4-compatible IPv6 address'],
    ['2002:7f00:1::1', 'a 6to4 transition address'],
    ['fd00:ec2::254', 'the AWS instance metadata address'],
    ['100.100.100.200', 'the Alibaba Cloud metadata address'],
  ])('%s is refused as %s', (address, words) => {
    expect(refusalReason(address, none)).toContain(`${address} is ${words}`);
    expect(refusalReason(address, none)).toMatch(/webhooks may not reach it/);
  });

  it('says in plain words why the metadata address is refused', () => {
    expect(refusalReason('169.254.169.254', none)).toBe('169.254.169.254 is a link-local address (cloud metadata); webhooks may not reach it');
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '2606:4700:4700::1111', '64:ff9b::808:808'])(
    'public address %s is allowed',
    (address) => {
      expect(classifyAddress(address).kind).toBe('public');
      expect(refusalReason(address, none)).toBeUndefined();
    },
  );

  it('refuses what is not a plain IP address rather than guess how it would be read', () => {
    expect(refusalReason('0x7f.1', none)).toMatch(/not an IP address/);
    expect(refusalReason('2130706433', none)).toMatch(/not an IP address/);
  });

  it('allowLoopback opens loopback, in both families and the mapped form, and nothing else', () => {
    const policy = { allowLoopback: true };
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(refusalReason(address, policy)).toBeUndefined();
    for (const address of ['10.0.0.1', '169.254.169.254', 'fc00::1', '0.0.0.0', '::']) expect(refusalReason(address, policy)).toBeDefined();
  });

  it('allowPrivate opens private networks but never loopback or a metadata service', () => {
    const policy = { allowPrivate: true };
    for (const address of ['10.0.0.1', '172.20.1.1', '192.168.0.1', '100.64.0.1', 'fd12::1', '::ffff:10.0.0.1']) expect(refusalReason(address, policy)).toBeUndefined();
    for (const address of ['127.0.0.1', '169.254.169.254', 'fd00:ec2::254', '100.100.100.200', 'fe80::1']) expect(refusalReason(address, policy)).toBeDefined();
    expect(refusalReason('10.0.0.1', none)).toMatch(/unless private addresses are allowed for it$/);
  });
});

describe('resolving a name', () => {
  const resolverFor =
    (answers: Record<string, string[]>): Resolver =>
    async (hostname) =>
      (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('refuses a name when ANY of its addresses is refused, naming the name and the address', async () => {
    const guard = new AddressGuard({ resolver: resolverFor({ 'mixed.example.test': ['93.184.216.34', '2606:2800:220:1::1', '10.1.2.3'] }) });
    const refused = await guard.resolve('mixed.example.test').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AddressRefusedError);
    expect((refused as AddressRefusedError).reason).toBe(
      'mixed.example.test resolves to 10.1.2.3, which is a private address (RFC 1918); webhooks may not reach it unless private addresses are allowed for it',
    );
  });

  it('passes a name whose addresses are all public, with all of them', async () => {
    const guard = new AddressGuard({ resolver: resolverFor({ 'hooks.example.test': ['93.184.216.34', '2606:2800:220:1::1'] }) });
    await expect(guard.resolve('hooks.example.test')).resolves.toHaveLength(2);
  });

  it('says a name with no address was not found', async () => {
    const guard = new AddressGuard({ resolver: resolverFor({}) });
    await expect(guard.resolve('nowhere.example.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers lookup in the shape Node asks for: one address, or all of them', async () => {
    const guard = new AddressGuard({ resolver: resolverFor({ 'hooks.example.test': ['93.184.216.34', '2606:2800:220:1::1'] }) });
    const ask = (options: Parameters<LookupFunction>[1]) =>
      new Promise<unknown[]>((resolve, reject) => guard.lookup('hooks.example.test', options, (error, ...rest) => (error ? reject(error) : resolve(rest))));
    expect(await ask({})).toEqual(['93.184.216.34', 4]);
    expect(await ask({ family: 6 })).toEqual(['2606:2800:220:1::1', 6]);
    expect(await ask({ all: true })).toEqual([
      [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
    ]);
  });
});

describe('where the check sits: the connection itself', () => {
  let server: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** GET http://host:port/ with `lookup`; the status, or the error the request failed with. */
  function get(host: string, lookup: LookupFunction): Promise<number | Error> {
    return new Promise((resolve) => {
      const request = http.get({ host, port, path: '/', lookup, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      request.on('error', resolve);
    });
  }

  const toLoopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];

  it('fails the connection before it is made when the name resolves to loopback', async () => {
    const before = connections;
    const outcome = await get('hooks.example.test', new AddressGuard({ resolver: toLoopback }).lookup);
    expect(outcome).toBeInstanceOf(AddressRefusedError);
    expect((outcome as Error).message).toBe(
      'hooks.example.test resolves to 127.0.0.1, which is a loopback address; webhooks may not reach it unless loopback is allowed for it',
    );
    expect(connections).toBe(before);
  });

  it('connects to the vetted address when loopback is allowed', async () => {
    const before = connections;
    expect(await get('hooks.example.test', new AddressGuard({ resolver: toLoopback, allowLoopback: true }).lookup)).toBe(200);
    expect(connections).toBe(before + 1);
  });

  it('Node skips lookup for an IP literal, so literal hosts are checked apart', async () => {
    let lookups = 0;
    const counting: LookupFunction = (hostname, options, callback) => {
      lookups++;
      new AddressGuard().lookup(hostname, options, callback);
    };
    // The request reaches 127.0.0.1 although the guard behind `lookup` refuses loopback: lookup never ran.
    expect(await get('127.0.0.1', counting)).toBe(200);
    expect(lookups).toBe(0);

    const guard = new AddressGuard();
    expect(() => guard.checkLiteralHost('127.0.0.1')).toThrow(AddressRefusedError);
    expect(() => guard.checkLiteralHost('[::1]')).toThrow('::1 is a loopback address');
    expect(() => guard.checkLiteralHost('169.254.169.254')).toThrow('169.254.169.254 is a link-local address (cloud metadata); webhooks may not reach it');
    expect(() => guard.checkLiteralHost('8.8.8.8')).not.toThrow();
    expect(() => guard.checkLiteralHost('hooks.example.test')).not.toThrow();
  });
});
