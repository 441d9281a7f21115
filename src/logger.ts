import { pino, type Logger as PinoLogger } from 'pino';
import { correlationFields } from './log-context.js';

export type Logger = PinoLogger;

/**
 * Fields never written to the log, at any depth and however they are spelled (`Authorization`,
 * `client_secret`, `x-api-key`): keys are compared lower-cased without `-` and `_`. Vendor errors carry
 * the request that failed (an HTTP client's error keeps `config.headers.Authorization`), so a logged
 * error is walked like everything else. Message bodies are left to call sites, which log ids, not text.
 */
const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'password',
  'passwd',
  'secret',
  'clientsecret',
  'clientstate',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'apikey',
  'xapikey',
  'privatekey',
  'sharedaccesskey',
  'connectionstring',
]);
const SECRET_SUFFIXES = ['token', 'secret', 'password'];
const CENSOR = '[redacted]';
const MAX_DEPTH = 12;

function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEYS.has(k) || SECRET_SUFFIXES.some((suffix) => k.endsWith(suffix));
}

/** Bearer tokens and URL credentials inside text (an error message quoting a header or a connection string). */
function scrubText(text: string): string {
  if (!text.includes('Bearer ') && !text.includes('@')) return text;
  return text.replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, `Bearer ${CENSOR}`).replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, `$1${CENSOR}@`);
}

/**
 * A copy of `value` with secret fields censored; the caller's objects are never changed. Errors keep
 * their prototype (pino's error serializer names the type from it) and their own properties, message
 * and stack included; other objects become what JSON would make of them.
 */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
    if (value instanceof Error) {
      const copy = Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(value)) {
        const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
        const inner = 'value' in descriptor ? descriptor.value : undefined;
        const redacted = isSecretKey(key) ? CENSOR : redact(inner, depth + 1, seen);
        Object.defineProperty(copy, key, { value: redacted, writable: true, configurable: true, enumerable: descriptor.enumerable ?? false });
      }
      return copy;
    }
    const json = (value as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return redact(json.call(value), depth + 1, seen);
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) copy[key] = isSecretKey(key) ? CENSOR : redact(inner, depth + 1, seen);
    return copy;
  } finally {
    seen.delete(value);
  }
}

/**
 * JSON lines on stdout (or the given stream), one logger per service instance: no global logger. At
 * info, lines carry ids, counts and reasons, never message text or email bodies (those are personal
 * data, and the ticket's timeline already keeps them).
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'teams-service-desk' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (object) => redact(object) as Record<string, unknown> },
      // Every line written inside correlated work (a turn, an email, an outbox send) carries its id.
      mixin: correlationFields,
    },
    destination ?? process.stdout,
  );
}
