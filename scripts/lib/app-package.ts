import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import JSZip from 'jszip';
import { readPngInfo } from './png.js';

/**
 * Builds the sideloadable Teams app package: resolves the manifest's `${{VAR}}` placeholders from the
 * toolkit's environment files, checks the icons, and zips manifest + icons at the zip's root (where
 * Teams looks for them).
 */

export interface PackageOptions {
  /** The project root (holding appPackage/ and env/). */
  root: string;
  /** Which env/.env.<name> to read. */
  env: string;
  /** Values that win over the files, e.g. from the shell. */
  overrides?: Record<string, string | undefined>;
}

export interface BuiltPackage {
  zipPath: string;
  manifestPath: string;
  manifest: Record<string, any>;
}

export class PackageError extends Error {
  constructor(readonly problems: string[]) {
    super(`cannot build the app package:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PackageError';
  }
}

const PLACEHOLDER = /\$\{\{\s*([A-Z0-9_]+)\s*\}\}/g;
const ICONS = { color: { size: 192 }, outline: { size: 32 } } as const;

export function readEnvironment(root: string, env: string, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const values: Record<string, string> = {};
  for (const file of [`.env.${env}`, `.env.${env}.user`]) {
    const path = join(root, 'env', file);
    if (existsSync(path)) Object.assign(values, parseEnv(readFileSync(path, 'utf8')));
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) values[key] = value;
  return values;
}

export async function buildAppPackage(options: PackageOptions): Promise<BuiltPackage> {
  const root = resolve(options.root);
  const envFile = join(root, 'env', `.env.${options.env}`);
  if (!existsSync(envFile)) throw new PackageError([`env/.env.${options.env} does not exist; choose one of the files in env/`]);
  const values = readEnvironment(root, options.env, options.overrides);

  const template = readFileSync(join(root, 'appPackage', 'manifest.json'), 'utf8');
  const problems: string[] = [];
  const missing = new Set<string>();
  const rendered = template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    // An empty suffix is legitimate; an empty id or domain is not.
    if (value === undefined || (value === '' && !name.endsWith('_SUFFIX'))) missing.add(name);
    return JSON.stringify(value ?? '').slice(1, -1);
  });
  for (const name of missing) {
    problems.push(`${name} is empty: set it in env/.env.${options.env} (the toolkit's provision step writes it), or in the shell`);
  }

  let manifest: Record<string, any> = {};
  try {
    manifest = JSON.parse(rendered) as Record<string, any>;
  } catch (error) {
    problems.push(`appPackage/manifest.json is not valid JSON after substitution: ${(error as Error).message}`);
  }

  for (const [kind, { size }] of Object.entries(ICONS)) {
    const file = manifest.icons?.[kind] as string | undefined;
    if (!file) {
      problems.push(`manifest.icons.${kind} is not set`);
      continue;
    }
    const path = join(root, 'appPackage', file);
    if (!existsSync(path)) {
      problems.push(`icon ${file} is missing from appPackage/`);
      continue;
    }
    const png = readPngInfo(path);
    if (png.width !== size || png.height !== size) problems.push(`icon ${file} is ${png.width}×${png.height}; Teams needs ${size}×${size}`);
    if (kind === 'outline' && !png.hasAlpha) problems.push(`icon ${file} must have a transparent background`);
  }
  if (problems.length > 0) throw new PackageError(problems);

  const buildDir = join(root, 'appPackage', 'build');
  mkdirSync(buildDir, { recursive: true });
  const manifestPath = join(buildDir, `manifest.${options.env}.json`);
  const zipPath = join(buildDir, `appPackage.${options.env}.zip`);
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(manifestPath, manifestText);

  // A fixed date keeps the zip byte-for-byte the same for the same inputs.
  const date = new Date('2026-01-01T00:00:00Z');
  const zip = new JSZip();
  zip.file('manifest.json', manifestText, { date });
  for (const kind of Object.keys(ICONS) as Array<keyof typeof ICONS>) {
    const file = manifest.icons[kind] as string;
    zip.file(file, readFileSync(join(root, 'appPackage', file)), { date });
  }
  writeFileSync(zipPath, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
  return { zipPath, manifestPath, manifest };
}
