import { readFileSync } from 'node:fs';

const here = (name: string) => new URL(`./tls/${name}`, import.meta.url);

/**
 * The loopback server certificate, signed by the test CA in tls/ca.crt (see tls/generate.sh). Test
 * processes trust that CA through NODE_EXTRA_CA_CERTS, set in vitest.config.ts and bench/run.ts.
 */
export const loopbackTls = {
  key: readFileSync(here('server.key')),
  cert: readFileSync(here('server.crt')),
};

export const testCaPath = new URL('./tls/ca.crt', import.meta.url).pathname;
