import { ConfidentialClientApplication } from '@azure/msal-node';
import { TeamsAdapter } from '@microsoft/teams-ai';
import { MsalServiceClientCredentialsFactory } from 'botframework-connector';
import type { BotConfig } from '../config.js';

const PUBLIC_LOGIN_PREFIX = 'https://login.microsoftonline.com/';

/**
 * The Bot Framework adapter with our credentials and endpoints. The endpoint keys go to botbuilder
 * verbatim. For a login URL outside the public cloud (a sovereign cloud, a test identity provider),
 * botbuilder's own MSAL client would first ask login.microsoftonline.com to discover the authority,
 * which fails offline and in isolated clouds (platform-facts 1.3), so we hand it an MSAL client that
 * already knows the authority.
 */
export function createTeamsAdapter(bot: BotConfig): TeamsAdapter {
  const authConfig = {
    MicrosoftAppId: bot.appId ?? '',
    MicrosoftAppPassword: bot.password ?? '',
    MicrosoftAppType: bot.type,
    MicrosoftAppTenantId: bot.tenantId ?? '',
    ...bot.endpoints,
  };
  const loginUrl = bot.endpoints.ToChannelFromBotLoginUrl;
  if (!bot.appId || !bot.password || !loginUrl || loginUrl.toLowerCase().startsWith(PUBLIC_LOGIN_PREFIX)) {
    return new TeamsAdapter(authConfig);
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
  return new TeamsAdapter(authConfig, new MsalServiceClientCredentialsFactory(bot.appId, msal as unknown as MsalClient));
}
