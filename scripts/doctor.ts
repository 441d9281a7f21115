import { fileURLToPath } from 'node:url';
import { formatDoctor, runDoctor } from './lib/doctor.js';

/** `npm run doctor [-- --env <name>]`: checks the configuration and every configured peer; exit 1 when something is wrong. */
const args = process.argv.slice(2);
const flag = args.indexOf('--env');
const appEnv = flag >= 0 ? args[flag + 1]! : (process.env.TEAMSFX_ENV ?? 'dev');
const root = fileURLToPath(new URL('../', import.meta.url));
const rows = await runDoctor(process.env, { root, appEnv });
process.stdout.write(formatDoctor(rows));
process.exit(rows.every((r) => r.ok) ? 0 : 1);
