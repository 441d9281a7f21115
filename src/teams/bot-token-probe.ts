import { ConfidentialClientApplication } from '@azure/msal-node';
import type { BotConfig } from '../config.js';

/**
 * Whether the bot's credentials can obtain a token to talk to Teams (readiness, doctor). MSAL caches
 * the token, so checking often costs nothing. Undefined in local mode (no credentials to check) and for
 * managed identity (checked by Azure).
 */
export function botTokenProbe(bot: BotConfig): (() => Promise<void>) | undefined {
  if (!bot.appId || !bot.password || bot.type === 'UserAssignedMsi') return undefined;
  const loginUrl = bot.endpoints.ToChannelFromBotLoginUrl ?? `https://login.microsoftonline.com/${bot.type === 'SingleTenant' ? bot.tenantId : 'botframework.com'}`;
  const custom = !loginUrl.toLowerCase().startsWith('https://login.microsoftonline.com/');
  const msal = new ConfidentialClientApplication({
    auth: { clientId: bot.appId, clientSecret: bot.password, authority: loginUrl, ...(custom ? { knownAuthorities: [new URL(loginUrl).host] } : {}) },
  });
  const scope = `${(bot.endpoints.ToChannelFromBotOAuthScope ?? 'https://api.botframework.com').replace(/\/+$/, '')}/.default`;
  return async () => {
    const result = await msal.acquireTokenByClientCredential({ scopes: [scope] });
    if (!result?.accessToken) throw new Error('the token endpoint answered without a token');
  };
}
