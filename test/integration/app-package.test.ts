import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import JSZip from 'jszip';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildAppPackage, PackageError } from '../../scripts/lib/app-package.js';
import { readPngInfo } from '../../scripts/lib/png.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const schema = JSON.parse(readFileSync(new URL('../fixtures/teams-manifest/MicrosoftTeams.v1.22.schema.json', import.meta.url), 'utf8'));

const ids = {
  TEAMS_APP_ID: '2f5c1a7e-9b3d-4c8e-a1f0-6d2b7e9c4a31',
  BOT_ID: '6b8c2d6e-1f3a-4c5d-8e9f-0a1b2c3d4e5f',
  BOT_DOMAIN: 'desk.contoso.com',
};

describe('the Teams app package', () => {
  let root: string;
  beforeEach(() => {
    // A copy of what packaging reads, so the test never writes into the working tree.
    root = mkdtempSync(join(tmpdir(), 'app-package-'));
    cpSync(join(repo, 'appPackage'), join(root, 'appPackage'), { recursive: true, filter: (src) => !src.includes('/build') });
    cpSync(join(repo, 'env'), join(root, 'env'), { recursive: true });
  });

  it('builds a zip whose manifest validates against the official v1.22 schema, with the icons at its root', async () => {
    const built = await buildAppPackage({ root, env: 'dev', overrides: ids });
    const zip = await JSZip.loadAsync(readFileSync(built.zipPath));
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);

    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    // Both are CommonJS modules whose class/function is also their `default` property.
    const ajv = new AjvDraft04.default({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    const valid = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);

    expect(manifest.id).toBe(ids.TEAMS_APP_ID);
    expect(manifest.bots[0].botId).toBe(ids.BOT_ID);
    expect(manifest.bots[0].scopes).toEqual(['personal', 'team', 'groupChat']);
    expect(manifest.validDomains).toEqual([ids.BOT_DOMAIN]);
    expect(JSON.stringify(manifest)).not.toContain('${{');
  });

  it('ships a 192×192 colour icon and a 32×32 transparent outline icon', async () => {
    const built = await buildAppPackage({ root, env: 'dev', overrides: ids });
    const zip = await JSZip.loadAsync(readFileSync(built.zipPath));
    for (const [name, size] of [['color.png', 192], ['outline.png', 32]] as const) {
      const file = join(root, `unzipped-${name}`);
      writeFileSync(file, await zip.file(name)!.async('nodebuffer'));
      expect(readPngInfo(file)).toMatchObject({ width: size, height: size });
    }
    expect(readPngInfo(join(root, 'unzipped-outline.png')).hasAlpha).toBe(true);
  });

  it('refuses to build while ids are missing, naming each one and where to set it', async () => {
    const failure = await buildAppPackage({ root, env: 'dev', overrides: { BOT_ID: ids.BOT_ID } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PackageError);
    expect((failure as PackageError).problems).toEqual([
      expect.stringMatching(/^TEAMS_APP_ID is empty: set it in env\/\.env\.dev/),
      expect.stringMatching(/^BOT_DOMAIN is empty/),
    ]);
  });

  it('refuses an icon of the wrong size', async () => {
    cpSync(join(root, 'appPackage', 'outline.png'), join(root, 'appPackage', 'color.png'));
    const failure = await buildAppPackage({ root, env: 'dev', overrides: ids }).catch((e: unknown) => e);
    expect((failure as PackageError).problems).toEqual(['icon color.png is 32×32; Teams needs 192×192']);
  });

  it('reads values from the environment files, with the user file and the shell on top', async () => {
    writeFileSync(join(root, 'env', '.env.dev.user'), `TEAMS_APP_ID=${ids.TEAMS_APP_ID}\nBOT_DOMAIN=from-user-file.example\n`);
    const built = await buildAppPackage({ root, env: 'dev', overrides: { BOT_ID: ids.BOT_ID, BOT_DOMAIN: 'from-shell.example' } });
    expect(built.manifest.id).toBe(ids.TEAMS_APP_ID);
    expect(built.manifest.validDomains).toEqual(['from-shell.example']);
  });
});
