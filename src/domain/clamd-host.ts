/** Where clamd listens, as CLAMD_HOST says it (pure: config reads it, the clamd client uses it). */

/** clamd's own default port (clamd.conf's TCPSocket example). */
export const CLAMD_DEFAULT_PORT = 3310;

/** `host:port`, `host` (port 3310) or `[v6]:port` → where clamd listens; a message saying what is wrong otherwise. */
export function parseClamdHost(value: string): { host: string; port: number } | { error: string } {
  const text = value.trim();
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text);
  if (!match) return { error: `CLAMD_HOST must be host:port, such as clamav:3310 (got "${text.slice(0, 80)}")` };
  const port = match[3] === undefined ? CLAMD_DEFAULT_PORT : Number(match[3]);
  if (port < 1 || port > 65535) return { error: `CLAMD_HOST's port must be between 1 and 65535 (got ${port})` };
  return { host: match[1] ?? match[2]!, port };
}
