import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';

const ok = (env: Record<string, string>) => {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.config;
};
const problems = (env: Record<string, string>) => {
  const result = parseConfig(env);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.problems;
};

describe('config', () => {
  it('starts with nothing set: SQLite in ./data, port 3978, local mode on loopback', () => {
    const config = ok({});
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/service-desk.db' });
    expect(config.http).toMatchObject({ port: 3978, host: '127.0.0.1' });
    expect(config.bot.appId).toBeUndefined();
    expect(config.graph).toBeNull();
    expect(config.hubspot).toBeNull();
  });

  it.each([
    ['sqlite:./tmp/desk.db', { kind: 'sqlite', path: './tmp/desk.db' }],
    ['sqlite:///var/lib/desk.db', { kind: 'sqlite', path: '/var/lib/desk.db' }],
    [':memory:', { kind: 'sqlite', path: ':memory:' }],
    ['postgres://desk@db:5432/desk', { kind: 'postgres', url: 'postgres://desk@db:5432/desk' }],
    ['postgresql://desk@db/desk', { kind: 'postgres', url: 'postgresql://desk@db/desk' }],
  ])('reads DATABASE_URL=%s', (url, expected) => {
    expect(ok({ DATABASE_URL: url }).database).toEqual(expected);
  });

  it('refuses to start in production without bot credentials, and says what to do', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^BOT_ID: required when NODE_ENV=production/)]);
  });

  it('lists every problem at once', () => {
    const found = problems({
      NODE_ENV: 'production',
      DATABASE_URL: 'mysql://nope',
      GRAPH_TENANT_ID: 't',
      ToBotFromChannelOpenIdMetadataUrl: 'https://idp.example/v1/.well-known/openidconfiguration',
    });
    expect(found).toHaveLength(4);
    expect(found.join('\n')).toMatch(/DATABASE_URL/);
    expect(found.join('\n')).toMatch(/GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET, SUPPORT_MAILBOX/);
    expect(found.join('\n')).toMatch(/ToChannelFromBotLoginUrl, ToChannelFromBotOAuthScope, ToBotFromChannelTokenIssuer: set these too/);
    expect(found.join('\n')).toMatch(/BOT_ID/);
  });

  it('reports malformed values by variable name', () => {
    const found = problems({ PORT: 'eighty', LOG_LEVEL: 'loud', BOT_TYPE: 'Whatever', GRAPH_BASE_URL: 'http://graph.local' });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['BOT_TYPE', 'GRAPH_BASE_URL', 'LOG_LEVEL', 'PORT']);
  });

  it('needs a password with a bot id, and a tenant for a single-tenant bot', () => {
    expect(problems({ BOT_ID: 'app', BOT_TYPE: 'SingleTenant' })).toEqual([
      expect.stringMatching(/^BOT_PASSWORD/),
      expect.stringMatching(/^BOT_TENANT_ID/),
    ]);
    expect(ok({ BOT_ID: 'app', BOT_TYPE: 'UserAssignedMsi' }).bot.type).toBe('UserAssignedMsi');
  });

  it('passes the Bot Framework endpoint keys through, and listens on all interfaces when auth is on', () => {
    const config = ok({
      BOT_ID: 'app',
      BOT_PASSWORD: 'secret',
      ALLOWED_TENANT_IDS: '*',
      ToBotFromChannelOpenIdMetadataUrl: 'https://login.botframework.azure.us/v1/.well-known/openidconfiguration',
      ToBotFromChannelTokenIssuer: 'https://api.botframework.us',
      ToChannelFromBotLoginUrl: 'https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us',
      ToChannelFromBotOAuthScope: 'https://api.botframework.us',
      ChannelService: 'https://botframework.azure.us',
    });
    expect(config.bot.endpoints).toEqual({
      ToBotFromChannelOpenIdMetadataUrl: 'https://login.botframework.azure.us/v1/.well-known/openidconfiguration',
      ToBotFromChannelTokenIssuer: 'https://api.botframework.us',
      ToChannelFromBotLoginUrl: 'https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us',
      ToChannelFromBotOAuthScope: 'https://api.botframework.us',
      ChannelService: 'https://botframework.azure.us',
    });
    expect(config.http.host).toBe('0.0.0.0');
  });

  it('refuses an http login URL, which MSAL would refuse later with a worse message', () => {
    expect(
      problems({
        ToBotFromChannelOpenIdMetadataUrl: 'http://x/meta',
        ToBotFromChannelTokenIssuer: 'i',
        ToChannelFromBotLoginUrl: 'http://login.local/tenant',
        ToChannelFromBotOAuthScope: 's',
      }),
    ).toEqual([expect.stringMatching(/^ToChannelFromBotLoginUrl: must use https/)]);
  });

  it('turns Graph and HubSpot on only when fully configured, with their defaults', () => {
    const config = ok({
      GRAPH_TENANT_ID: 't',
      GRAPH_CLIENT_ID: 'c',
      GRAPH_CLIENT_SECRET: 's',
      SUPPORT_MAILBOX: 'support@contoso.com',
      HUBSPOT_ACCESS_TOKEN: 'pat-na1-123',
      ADMIN_IDS: ' a1 , a2 ,',
      BOT_TENANT_ID: 'tenant-x',
    });
    expect(config.graph).toMatchObject({ baseUrl: 'https://graph.microsoft.com', authorityHost: 'https://login.microsoftonline.com', notificationUrl: undefined });
    expect(config.hubspot).toMatchObject({ baseUrl: 'https://api.hubapi.com' });
    expect(config.roles.adminIds).toEqual(['a1', 'a2']);
    expect(config.roles.allowedTenantIds).toEqual(['tenant-x']);
  });

  it('is frozen: nothing can change it after start-up', () => {
    const config = ok({});
    expect(() => {
      (config.http as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});
