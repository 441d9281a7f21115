import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The fake identity provider and Graph server speak HTTPS with a test CA, because MSAL and the Graph
// client refuse plain http. Node reads NODE_EXTRA_CA_CERTS only when a process starts, so it is set
// here, before vitest forks its workers, rather than inside a test.
process.env.NODE_EXTRA_CA_CERTS = fileURLToPath(new URL('./test/fakes/tls/ca.crt', import.meta.url));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites that need a shared Postgres (several replicas on one database) run when there is one;
    // .ci/run sets TEST_DATABASE_URL when a server answers on 127.0.0.1:5432.
    exclude: process.env.TEST_DATABASE_URL ? [] : ['test/**/*.postgres.test.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Polls wait for background work (outbox, batches); give a loaded CI machine room.
    expect: { poll: { timeout: 5_000 } },
    reporters: ['default'],
  },
});
