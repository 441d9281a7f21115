import { fileURLToPath } from 'node:url';
import { buildAppPackage, PackageError } from './lib/app-package.js';

/**
 * `npm run package [-- --env <name>]`: writes appPackage/build/appPackage.<name>.zip for sideloading.
 * The environment defaults to TEAMSFX_ENV, else `dev`.
 */
const args = process.argv.slice(2);
const flag = args.indexOf('--env');
const env = flag >= 0 ? args[flag + 1] : (process.env.TEAMSFX_ENV ?? 'dev');
if (!env) {
  process.stderr.write('usage: npm run package -- --env <dev|local|playground>\n');
  process.exit(2);
}
const root = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url));

try {
  const built = await buildAppPackage({ root, env, overrides: process.env });
  process.stdout.write(`Wrote ${built.zipPath}\nUpload it in Teams: Apps → Manage your apps → Upload an app → Upload a custom app.\n`);
} catch (error) {
  if (error instanceof PackageError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
