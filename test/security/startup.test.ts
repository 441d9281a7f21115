import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig, TEAMS_SERVICE_ORIGINS } from '../../src/config.js';

/** No accidental open doors: settings that would expose the desk are refused before anything starts. */

const problems = (env: Record<string, string>) => {
  const result = parseConfig(env);
  return result.ok ? [] : result.problems;
};
const config = (env: Record<string, string>) => {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.config;
};
const BOT = { BOT_ID: 'app', BOT_PASSWORD: 'secret' };

describe('local mode (no bot credentials)', () => {
  it.each(['development', 'test', 'production'])('refuses HOST=0.0.0.0 with NODE_ENV=%s, saying what to do', (env) => {
    const found = problems({ NODE_ENV: env, HOST: '0.0.0.0' }).join('\n');
    expect(found).toMatch(/^HOST: 0\.0\.0\.0 without BOT_ID .*ALLOW_UNAUTHENTICATED=true/m);
  });

  it('refuses any other interface too, and accepts loopback ones', () => {
    expect(problems({ HOST: '10.0.0.5' })).toEqual([expect.stringMatching(/^HOST: 10\.0\.0\.5 without BOT_ID/)]);
    expect(problems({ HOST: '::' })).toEqual([expect.stringMatching(/^HOST: :: without BOT_ID/)]);
    for (const host of ['127.0.0.1', '127.0.1.1', 'localhost', '::1']) expect(problems({ HOST: host }), host).toEqual([]);
  });

  it('listens beyond loopback only when asked for explicitly, and never in production', () => {
    expect(config({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' }).http.host).toBe('0.0.0.0');
    expect(problems({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true', NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^BOT_ID: required when NODE_ENV=production/)]);
    expect(problems({ ALLOW_UNAUTHENTICATED: 'yes' })).toEqual([expect.stringMatching(/^ALLOW_UNAUTHENTICATED: .*true or false/)]);
  });

  it('trusts loopback serviceUrls (the Agents Playground, the Emulator) and any channel', () => {
    expect(config({}).bot.inbound).toEqual({ allowedServiceUrls: ['http://127.0.0.1:*', 'http://localhost:*', 'http://[::1]:*'], allowEmulatorTokens: false, channelId: undefined, allowedTenantIds: '*' });
  });

  it('the process exits 1 with the message before opening anything', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOST: '0.0.0.0', PORT: '0', DATABASE_URL: ':memory:' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/HOST: 0\.0\.0\.0 without BOT_ID/);
  });
});

describe('with bot credentials', () => {
  it('refuses a MultiTenant bot with no tenant allowlist, unless every tenant is allowed with *', () => {
    expect(problems({ ...BOT })).toEqual([expect.stringMatching(/^ALLOWED_TENANT_IDS: required for a MultiTenant bot.* \*/)]);
    expect(config({ ...BOT, ALLOWED_TENANT_IDS: '*' }).bot.inbound.allowedTenantIds).toBe('*');
    expect(config({ ...BOT, ALLOWED_TENANT_IDS: 't1, t2' }).bot.inbound.allowedTenantIds).toEqual(['t1', 't2']);
    expect(config({ ...BOT, BOT_TENANT_ID: 'home' }).bot.inbound.allowedTenantIds).toEqual(['home']);
    expect(problems({ ...BOT, ALLOWED_TENANT_IDS: '*,t1' })).toEqual([expect.stringMatching(/^ALLOWED_TENANT_IDS: \* allows every tenant/)]);
  });

  it('trusts only Teams\' public service hosts by default, msteams only, no Emulator tokens', () => {
    const inbound = config({ ...BOT, ALLOWED_TENANT_IDS: '*' }).bot.inbound;
    expect(inbound).toEqual({ allowedServiceUrls: TEAMS_SERVICE_ORIGINS, allowEmulatorTokens: false, channelId: 'msteams', allowedTenantIds: '*' });
    expect(inbound.allowedServiceUrls).toContain('https://smba.trafficmanager.net');
  });

  it('reads ALLOWED_SERVICE_URLS as origins and refuses anything else', () => {
    expect(config({ ...BOT, ALLOWED_TENANT_IDS: '*', ALLOWED_SERVICE_URLS: 'https://smba.trafficmanager.net/, http://127.0.0.1:*, https://*.example.com:8443' }).bot.inbound.allowedServiceUrls).toEqual([
      'https://smba.trafficmanager.net',
      'http://127.0.0.1:*',
      'https://*.example.com:8443',
    ]);
    expect(problems({ ...BOT, ALLOWED_TENANT_IDS: '*', ALLOWED_SERVICE_URLS: 'smba.trafficmanager.net,https://x.example/teams/' })).toEqual([
      expect.stringMatching(/^ALLOWED_SERVICE_URLS: smba\.trafficmanager\.net is not an origin/),
      expect.stringMatching(/^ALLOWED_SERVICE_URLS: https:\/\/x\.example\/teams\/ is not an origin/),
    ]);
  });
});
