import { pino, type Logger as PinoLogger } from 'pino';
import { correlationFields } from './log-context.js';

export type Logger = PinoLogger;

/**
 * Paths never written to the log, wherever they appear. Tokens, secrets and passwords are redacted by
 * name; message bodies are left to call sites, which log ids rather than text.
 */
const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  'clientSecret',
  '*.clientSecret',
  'accessToken',
  '*.accessToken',
  'token',
  '*.token',
  'secret',
  '*.secret',
];

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
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      // Every line written inside correlated work (a turn, an email, an outbox send) carries its id.
      mixin: correlationFields,
    },
    destination ?? process.stdout,
  );
}
