import { ConfidentialClientApplication } from '@azure/msal-node';
import { TeamsAdapter } from '@microsoft/teams-ai';
import type { Activity, TurnContext } from 'botbuilder';
import { AuthenticationError, MsalServiceClientCredentialsFactory } from 'botframework-connector';
import type { BotConfig, InboundPolicy } from '../config.js';
import { checkInbound } from './inbound-policy.js';

const PUBLIC_LOGIN_PREFIX = 'https://login.microsoftonline.com/';

/** Errors jsonwebtoken throws for a token that is not acceptable: forged, malformed, expired, too early. */
const TOKEN_ERRORS = new Set(['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError']);

export type AdapterOutcome =
  | { kind: 'ok'; status: number; body: unknown }
  | { kind: 'unauthorized'; reason: string }
  | { kind: 'refused'; status: 401 | 403; reason: string };

/**
 * teams-ai's adapter, with request handling of our own around botbuilder's `processActivity` (which
 * still does the JWT validation). botbuilder's `process` prints failures with console.error and answers
 * a forged signature with 500, because jsonwebtoken's error is not its AuthenticationError
 * (https://github.com/microsoft/botbuilder-js/blob/main/libraries/botbuilder/src/cloudAdapter.ts); here every refused token is a 401 and a JSON log line, and a failure of our
 * own (say, the key endpoint unreachable) is thrown for the caller to report as a 500.
 */
export class ServiceDeskAdapter extends TeamsAdapter {
  constructor(
    private readonly inbound: { policy: InboundPolicy; authenticated: boolean },
    ...args: ConstructorParameters<typeof TeamsAdapter>
  ) {
    super(...args);
  }

  async handle(body: Record<string, unknown>, authorization: string, logic: (context: TurnContext) => Promise<void>): Promise<AdapterOutcome> {
    // Before botbuilder: it would store nothing yet, but it would send replies, with our token, to any serviceUrl.
    const verdict = checkInbound(body, authorization, this.inbound.policy, this.inbound.authenticated);
    if (!verdict.ok) return { kind: 'refused', status: verdict.status, reason: verdict.reason };
    const activity = withDates(body) as unknown as Activity;
    try {
      const invokeResponse = await this.processActivity(authorization, activity, logic);
      return { kind: 'ok', status: invokeResponse?.status ?? 200, body: invokeResponse?.body };
    } catch (error) {
      if (error instanceof AuthenticationError || (error instanceof Error && TOKEN_ERRORS.has(error.name))) {
        return { kind: 'unauthorized', reason: error.message };
      }
      throw error;
    }
  }
}

/** Activity timestamps arrive as strings; botbuilder expects Date objects next to the raw text. */
function withDates(body: Record<string, unknown>): Record<string, unknown> {
  const activity: Record<string, unknown> = { ...body };
  for (const [field, raw] of [['timestamp', 'rawTimestamp'], ['localTimestamp', 'rawLocalTimestamp'], ['expiration', 'rawExpiration']] as const) {
    const value = activity[field];
    if (typeof value === 'string') {
      activity[raw] = value;
      activity[field] = new Date(value);
    }
  }
  return activity;
}

/**
 * The adapter with our credentials and endpoints. The endpoint keys go to botbuilder verbatim. For a
 * login URL outside the public cloud (a sovereign cloud, a test identity provider), botbuilder's own
 * MSAL client would first ask login.microsoftonline.com to discover the authority, which fails offline
 * and in isolated clouds (its MSAL client is built without known authorities:
 * https://github.com/microsoft/botbuilder-js/blob/main/libraries/botframework-connector/src/auth/msalAppCredentials.ts),
 * so we hand it an MSAL client that already knows it.
 */
export function createTeamsAdapter(bot: BotConfig): ServiceDeskAdapter {
  const authConfig = {
    MicrosoftAppId: bot.appId ?? '',
    MicrosoftAppPassword: bot.password ?? '',
    MicrosoftAppType: bot.type,
    MicrosoftAppTenantId: bot.tenantId ?? '',
    ...bot.endpoints,
  };
  const inbound = { policy: bot.inbound, authenticated: Boolean(bot.appId) };
  const loginUrl = bot.endpoints.ToChannelFromBotLoginUrl;
  if (!bot.appId || !bot.password || !loginUrl || loginUrl.toLowerCase().startsWith(PUBLIC_LOGIN_PREFIX)) {
    return new ServiceDeskAdapter(inbound, authConfig);
  }
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: bot.appId,
      clientSecret: bot.password,
      authority: loginUrl,
      knownAuthorities: [new URL(loginUrl).host],
    },
  });
  // Same msal-node package; TypeScript sees its ESM and CommonJS typings as two different classes.
  type MsalClient = ConstructorParameters<typeof MsalServiceClientCredentialsFactory>[1];
  return new ServiceDeskAdapter(inbound, authConfig, new MsalServiceClientCredentialsFactory(bot.appId, msal as unknown as MsalClient));
}
