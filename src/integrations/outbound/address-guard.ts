import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses an outbound request the desk makes on someone else's say-so (a webhook URL from the
 * config file) may reach. Webhooks are the textbook server-side request forgery: whoever sets the URL
 * picks where the desk's own network position sends a POST, so the cloud metadata service, the
 * database on 10.x or an admin port on loopback must be out of reach
 * (https://www.standardwebhooks.com/ "Server side request forgery (SSRF)";
 * https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html).
 *
 * The check runs on the address the socket actually connects to: `lookup` is handed to
 * `http.request({ lookup })`, so the names are resolved once, every answer is vetted, and Node connects
 * only to what was vetted. Checking a name first and letting the request resolve it again would leave
 * a DNS-rebinding gap (a first answer that is public, a second that is 127.0.0.1).
 *
 * Node never calls `lookup` for a host that is already an IP literal (net.connect connects to it
 * straight away), so literal hosts are checked by `checkLiteralHost` before the request is made.
 */

export interface AddressPolicy {
  /** Let requests reach 127.0.0.0/8 and ::1 (tests, a receiver on the same machine). */
  allowLoopback?: boolean;
  /** Let requests reach RFC 1918, carrier-grade NAT (100.64/10) and unique local (fc00::/7) addresses. */
  allowPrivate?: boolean;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a name resolves to. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system's resolver (getaddrinfo, so /etc/hosts counts), all addresses, in the order it gives them. */
export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * What kind of destination an address is. `loopback` and `private` can be opted into; `public` is
 * always allowed; `forbidden` never is (metadata, link-local, multicast, reserved, unspecified, …).
 */
export type AddressKind = 'public' | 'loopback' | 'private' | 'forbidden';

export interface AddressVerdict {
  kind: AddressKind;
  /** Plain words: "a link-local address (cloud metadata)". Empty for public addresses. */
  words: string;
}

/** Raised (and handed to the socket) when a request would reach an address the policy refuses. */
export class AddressRefusedError extends Error {
  readonly code = 'ERR_ADDRESS_REFUSED';

  constructor(
    /** The plain-words reason, also the message: safe to show admins. */
    readonly reason: string,
    readonly address: string,
  ) {
    super(reason);
    this.name = 'AddressRefusedError';
  }
}

/**
 * Addresses of cloud metadata services, refused whatever the policy allows: they hand out the
 * machine's credentials. 169.254.169.254 (AWS, Azure, GCP, …) is link-local anyway; AWS's IPv6 one is
 * a unique local address (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html)
 * and Alibaba Cloud's sits in carrier-grade NAT space
 * (https://www.alibabacloud.com/help/en/ecs/user-guide/overview-of-ecs-instance-metadata), so `allowPrivate`
 * would otherwise open them.
 */
const METADATA_ADDRESSES = new Map<string, string>([
  ['169.254.169.254', 'a link-local address (cloud metadata)'],
  ['169.254.170.2', 'a link-local address (AWS container metadata)'],
  ['fd00:ec2::254', 'the AWS instance metadata address'],
  ['100.100.100.200', 'the Alibaba Cloud metadata address'],
  // Azure's host platform endpoint (WireServer), public-looking but reachable only from inside Azure:
  // https://learn.microsoft.com/en-us/azure/virtual-network/what-is-ip-address-168-63-129-16
  ['168.63.129.16', 'the Azure platform address (WireServer)'],
]);

/** Plain words for the ranges ipaddr.js names (its `range()`), for those we refuse. */
const IPV4_WORDS: Record<string, string> = {
  unspecified: 'an unspecified address (0.0.0.0/8, which reaches this machine)',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address (RFC 6598)',
  private: 'a private address (RFC 1918)',
};

const IPV6_WORDS: Record<string, string> = {
  unspecified: 'the unspecified address (::, which reaches this machine)',
  linkLocal: 'a link-local address',
  multicast: 'a multicast address',
  loopback: 'a loopback address',
  uniqueLocal: 'a unique local address (RFC 4193)',
  deprecatedSiteLocal: 'a site-local address (deprecated, RFC 3879)',
  '6to4': 'a 6to4 transition address (RFC 3056), which tunnels to an IPv4 address',
  teredo: 'a Teredo transition address (RFC 4380), which tunnels to an IPv4 address',
};

/** The NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 §2.1): the last 32 bits are an IPv4 address. */
const NAT64_PREFIX = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
/** IPv4-compatible IPv6 addresses ::a.b.c.d (deprecated, RFC 4291 §2.5.5.1). */
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

/** What `address` (an IP literal, no brackets) is. Anything unreadable is forbidden. */
export function classifyAddress(address: string): AddressVerdict {
  const family = isIP(address.split('%')[0]!);
  // net.isIP is strict (four-part decimal only); ipaddr.js would also read "0x7f.1", which Node's
  // connect would not treat as an address at all.
  if (family === 0) return { kind: 'forbidden', words: 'not an IP address' };
  const metadata = METADATA_ADDRESSES.get(normalize(address));
  if (metadata) return { kind: 'forbidden', words: metadata };
  return family === 4 ? classifyV4(ipaddr.IPv4.parse(address)) : classifyV6(ipaddr.IPv6.parse(address));
}

function normalize(address: string): string {
  try {
    const parsed = ipaddr.parse(address.split('%')[0]!);
    return parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
  } catch {
    return address;
  }
}

function classifyV4(ip: ipaddr.IPv4): AddressVerdict {
  const metadata = METADATA_ADDRESSES.get(ip.toString());
  if (metadata) return { kind: 'forbidden', words: metadata };
  const range = ip.range();
  if (range === 'unicast') return { kind: 'public', words: '' };
  if (range === 'loopback') return { kind: 'loopback', words: IPV4_WORDS.loopback! };
  if (range === 'private' || range === 'carrierGradeNat') return { kind: 'private', words: IPV4_WORDS[range]! };
  return { kind: 'forbidden', words: IPV4_WORDS[range] ?? `a reserved or special-purpose address (${range})` };
}

function classifyV6(ip: ipaddr.IPv6): AddressVerdict {
  const range = ip.range();
  // IPv4 inside IPv6: the IPv4 address is what the packet reaches, so it decides. ::ffff:127.0.0.1
  // connects to 127.0.0.1 on a dual-stack socket; ::ffff:0:a.b.c.d is the RFC 6145 translated form.
  if (range === 'ipv4Mapped' || range === 'rfc6145' || ip.match(NAT64_PREFIX)) {
    const inner = embeddedV4(ip);
    const verdict = classifyV4(inner);
    if (verdict.kind === 'public') return verdict;
    const form = ip.match(NAT64_PREFIX) ? 'a NAT64 form' : 'an IPv4-mapped form';
    return { kind: verdict.kind, words: `${form} of ${inner.toString()}, ${verdict.words}` };
  }
  if (range === 'unicast') {
    if (ip.match(IPV4_COMPATIBLE)) return { kind: 'forbidden', words: 'an IPv4-compatible IPv6 address (deprecated, RFC 4291)' };
    return { kind: 'public', words: '' };
  }
  if (range === 'loopback') return { kind: 'loopback', words: IPV6_WORDS.loopback! };
  if (range === 'uniqueLocal') return { kind: 'private', words: IPV6_WORDS.uniqueLocal! };
  // Everything else ipaddr.js names is not a destination on the public internet: documentation,
  // benchmarking, discard, ORCHID, the local-use NAT64 prefix (whose embedding depends on the site), …
  return { kind: 'forbidden', words: IPV6_WORDS[range] ?? `a reserved or special-purpose address (${range})` };
}

function embeddedV4(ip: ipaddr.IPv6): ipaddr.IPv4 {
  const [high, low] = [ip.parts[6]!, ip.parts[7]!];
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** Why `address` may not be reached under `policy`, or undefined when it may. */
export function refusalReason(address: string, policy: AddressPolicy, hostname?: string): string | undefined {
  const verdict = classifyAddress(address);
  if (verdict.kind === 'public') return undefined;
  if (verdict.kind === 'loopback' && policy.allowLoopback) return undefined;
  if (verdict.kind === 'private' && policy.allowPrivate) return undefined;
  const subject = hostname && hostname !== address ? `${hostname} resolves to ${address}, which is` : `${address} is`;
  const unless =
    verdict.kind === 'loopback' ? ' unless loopback is allowed for it' : verdict.kind === 'private' ? ' unless private addresses are allowed for it' : '';
  return `${subject} ${verdict.words}; webhooks may not reach it${unless}`;
}

/** The host of a URL as Node connects to it: IPv6 literals without their brackets. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

export interface AddressGuardOptions extends AddressPolicy {
  /** How names are resolved (tests map names to addresses); default: the system resolver. */
  resolver?: Resolver;
}

export class AddressGuard {
  private readonly policy: AddressPolicy;
  private readonly resolver: Resolver;

  constructor(options: AddressGuardOptions = {}) {
    this.policy = { allowLoopback: options.allowLoopback === true, allowPrivate: options.allowPrivate === true };
    this.resolver = options.resolver ?? systemResolver;
  }

  /**
   * Throws AddressRefusedError when `hostname` is an IP literal the policy refuses; names pass (they
   * are checked by `lookup` when the socket connects). Call it before every request: Node skips
   * `lookup` for literals.
   */
  checkLiteralHost(hostname: string): void {
    const host = bareHost(hostname);
    if (isIP(host.split('%')[0]!) === 0) return;
    const reason = refusalReason(host, this.policy);
    if (reason) throw new AddressRefusedError(reason, host);
  }

  /**
   * Resolves `hostname` and returns every address, or throws AddressRefusedError if ANY of them is
   * refused: a name that answers with one public and one private address could be connected to either
   * (Happy Eyeballs tries several), so it is refused as a whole.
   */
  async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const host = bareHost(hostname);
    if (isIP(host.split('%')[0]!) !== 0) {
      this.checkLiteralHost(host);
      return [{ address: host, family: isIP(host.split('%')[0]!) }];
    }
    const addresses = await this.resolver(host);
    if (addresses.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND', hostname: host });
    for (const { address } of addresses) {
      const reason = refusalReason(address, this.policy, host);
      if (reason) throw new AddressRefusedError(reason, address);
    }
    return addresses;
  }

  /**
   * For `http.request({ lookup })` / `net.connect({ lookup })`: resolves through the guard and answers
   * in the shape Node asked for (one address, or all of them when Happy Eyeballs asks with `all`).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    this.resolve(hostname).then(
      (addresses) => {
        const wanted = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
        const first = wanted[0];
        if (!first) {
          callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND', hostname }), '', 0);
        } else if (options.all) {
          callback(null, wanted.map((a) => ({ address: a.address, family: a.family })));
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
