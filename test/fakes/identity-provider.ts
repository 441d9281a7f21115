import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { jwk, newSigningKey, signJwt, verifyJwt } from './jwt.js';
import { loopbackTls } from './tls.js';

/**
 * A Bot Framework / Entra identity provider on loopback HTTPS. It serves what the bot's real
 * botframework-connector and MSAL read: the channel's OpenID metadata and JWKS (to validate inbound
 * tokens), and an Entra-shaped authority with a client-credentials token endpoint (for the bot's own
 * outbound token). It signs inbound tokens the way the Bot Framework channel does, and can sign bad
 * ones on request.
 */

export const CHANNEL_ISSUER = 'https://api.botframework.com';
export const BOT_SCOPE = 'https://api.botframework.com';

export interface ChannelTokenOptions {
  audience?: string;
  issuer?: string;
  serviceUrl?: string;
  /** Seconds from now; negative for a token that already expired. */
  expiresIn?: number;
  /** Sign with a key the JWKS does not publish, under the published kid: a forged signature. */
  forged?: boolean;
  /**
   * Shape it like a Bot Framework Emulator token (a v1 Entra token from the Bot Framework tenant, with
   * `appid`, and no `serviceurl`), which botbuilder validates by another path than channel tokens.
   */
  emulator?: boolean;
}

/** One of the issuers botbuilder's Emulator validation accepts (botframework-connector tokenValidationParameters). */
export const EMULATOR_ISSUER = 'https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/';

const PROCESS_CHANNEL_KEY = newSigningKey(`channel-${randomUUID().slice(0, 8)}`);

export class FakeIdentityProvider {
  readonly tokenRequests: Array<{ clientId: string; scope: string; at: number }> = [];
  private readonly server: Server;
  // One key per test process: botframework-connector and MSAL cache tokens per process, so a token a
  // bot got from one harness must still verify after the next harness starts (several per test file).
  private readonly channelKey = PROCESS_CHANNEL_KEY;
  private readonly forgeryKey = newSigningKey('forgery');
  private readonly clients = new Map<string, string>();
  /** Failures the token endpoint answers with, one per request, before it works again. */
  readonly tokenFailures: Array<{ status: number; error: string }> = [];
  private base = '';

  constructor() {
    this.server = createServer(loopbackTls, (req, res) => this.route(req.method ?? 'GET', req.url ?? '/', req, res));
  }

  /** `localhost`, not 127.0.0.1: MSAL wants a host name it can list as a known authority. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `https://localhost:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** An app registration the token endpoint accepts. */
  registerApp(clientId: string, clientSecret: string): void {
    this.clients.set(clientId, clientSecret);
  }

  get openIdMetadataUrl(): string {
    return `${this.base}/v1/.well-known/openidconfiguration`;
  }

  get loginUrl(): string {
    return `${this.base}/botframework.com`;
  }

  /** The Authorization header value the Bot Framework channel would send with an activity. */
  channelAuthorization(appId: string, serviceUrl: string, options: ChannelTokenOptions = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const times = { nbf: now - 60, iat: now - 60, exp: now + (options.expiresIn ?? 3600) };
    const claims = options.emulator
      ? { iss: options.issuer ?? EMULATOR_ISSUER, aud: options.audience ?? appId, appid: appId, ver: '1.0', ...times }
      : { iss: options.issuer ?? CHANNEL_ISSUER, aud: options.audience ?? appId, serviceurl: options.serviceUrl ?? serviceUrl, ...times };
    const key = options.forged ? this.forgeryKey : this.channelKey;
    return `Bearer ${signJwt(key, claims, this.channelKey.kid)}`;
  }

  /** Checks a bearer token the bot sent to the connector: signed by us, for the Bot Framework, unexpired. */
  verifyBotToken(authorization: string | undefined): { appId: string } | undefined {
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    if (!token) return undefined;
    const claims = verifyJwt(token, this.channelKey.publicKey);
    if (!claims || claims.aud !== BOT_SCOPE || typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return undefined;
    return { appId: String(claims.appid) };
  }

  /** Checks an access token this provider issued for `audience` (e.g. a Graph fake's origin). */
  verifyAccessToken(authorization: string | undefined, audience: string): { appId: string } | undefined {
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    if (!token) return undefined;
    const claims = verifyJwt(token, this.channelKey.publicKey);
    if (!claims || claims.aud !== audience || typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return undefined;
    return { appId: String(claims.appid) };
  }

  /** The authority host for @azure/identity (`AZURE_AUTHORITY_HOST`): any tenant path works. */
  get authorityHost(): string {
    return this.base;
  }

  private route(method: string, url: string, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
    const path = url.split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (method === 'GET' && path === '/v1/.well-known/openidconfiguration') {
      return json(200, {
        issuer: CHANNEL_ISSUER,
        authorization_endpoint: `${this.base}/v1/authorize`,
        jwks_uri: `${this.base}/v1/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (method === 'GET' && path === '/v1/keys') return json(200, { keys: [jwk(this.channelKey)] });
    const discovery = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path ?? '');
    if (method === 'GET' && discovery) {
      const tenant = `${this.base}/${discovery[1]}`;
      return json(200, {
        token_endpoint: `${tenant}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${this.base}/v1/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${tenant}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${this.base}/oidc/userinfo`,
        authorization_endpoint: `${tenant}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${tenant}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${tenant}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid'],
        tenant_region_scope: 'WW',
        cloud_instance_name: 'localhost',
        cloud_graph_host_name: 'localhost',
        msgraph_host: 'localhost',
      });
    }
    const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path ?? '');
    if (method === 'POST' && tokenPath) {
      const failure = this.tokenFailures.shift();
      if (failure) return json(failure.status, { error: failure.error, error_description: `AADSTS50000: injected failure (${failure.error})` });
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const clientId = form.get('client_id') ?? '';
        if (form.get('grant_type') !== 'client_credentials' || this.clients.get(clientId) !== form.get('client_secret')) {
          return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
        }
        const scope = (form.get('scope') ?? '').replace(/\/\.default$/, '');
        this.tokenRequests.push({ clientId, scope, at: Date.now() });
        const now = Math.floor(Date.now() / 1000);
        const accessToken = signJwt(this.channelKey, { aud: scope, appid: clientId, iss: `${this.base}/${tokenPath[1]}/v2.0`, iat: now, nbf: now, exp: now + 3600 });
        return json(200, { token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, access_token: accessToken });
      });
      return;
    }
    json(404, { error: 'not_found', path });
  }
}
