/**
 * Origin allowlists (`https://smba.trafficmanager.net`, `http://127.0.0.1:*`, `https://*.example.com`).
 * Pure: used by the config to check ALLOWED_SERVICE_URLS and by the inbound check to apply it.
 */

const PATTERN = /^(https?):\/\/(\[[0-9a-f:.]+\]|[a-z0-9*.-]+)(?::(\d{1,5}|\*))?\/*$/i;

/** False when the text is not `scheme://host[:port]` with `*` only in the host or as the port. */
export function isOriginPattern(pattern: string): boolean {
  return PATTERN.test(pattern);
}

/**
 * Compares origins, never string prefixes: `https://smba.trafficmanager.net@evil.example/` is a URL on
 * evil.example. `*` stands for any run of host characters, or for any port (including none); a pattern
 * without a port matches the scheme's default port only. URLs carrying credentials never match.
 */
export function originAllowed(urlText: string, patterns: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  return patterns.some((pattern) => originMatches(url, pattern));
}

function originMatches(url: URL, pattern: string): boolean {
  const match = PATTERN.exec(pattern);
  if (!match) return false;
  const [, scheme, host, port] = match as unknown as [string, string, string, string | undefined];
  if (url.protocol !== `${scheme.toLowerCase()}:`) return false;
  const hostPattern = new RegExp(`^${host.toLowerCase().replace(/[.[\]]/g, '\\$&').replace(/\*/g, '[a-z0-9.-]*')}$`);
  if (!hostPattern.test(url.hostname.toLowerCase())) return false;
  if (port === '*') return true;
  const defaultPort = url.protocol === 'https:' ? '443' : '80';
  return (url.port || defaultPort) === (port ?? defaultPort);
}
