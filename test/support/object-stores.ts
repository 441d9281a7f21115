import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The real storage servers the attachment stores are tested against, on loopback ports of their own:
 * the Azure Storage emulator (Azurite, a child process with in-memory persistence) and s3rver (an
 * S3-compatible server in Node, in-process, writing to a temporary folder). Each start() gets a fresh
 * server; stop() ends it and removes what it wrote.
 */

/** Azurite's well-known development account: public, documented, and accepted only by the emulator. https://learn.microsoft.com/en-us/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningAzurite {
  connectionString: string;
  blobUrl: string;
  stop(): Promise<void>;
}

export async function startAzurite(): Promise<RunningAzurite> {
  const workspace = mkdtempSync(join(tmpdir(), 'sd-azurite-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/azurite/dist/src/blob/main.js'), '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--skipApiVersionCheck', '--disableTelemetry', '--loose'],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: workspace },
  );
  const blobUrl = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const onData = (data: Buffer) => {
      seen += data.toString();
      const match = /successfully listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match) {
        child.stdout!.off('data', onData);
        resolve(`${match[1]}/${AZURITE_ACCOUNT}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (data: Buffer) => (seen += data.toString()));
    child.once('exit', (code) => reject(new Error(`Azurite exited (${code}) before listening: ${seen}`)));
  });
  // Its access log is not wanted, but the pipe must be drained.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    blobUrl,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobUrl};`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(workspace, { recursive: true, force: true });
    },
  };
}

export interface RunningS3 {
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The environment a harness needs for ATTACHMENT_STORE=s3 against this server. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** s3rver's fixed credentials (it checks signatures made with them). */
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startS3rver(bucket = 'desk-attachments'): Promise<RunningS3> {
  const directory = mkdtempSync(join(tmpdir(), 'sd-s3rver-'));
  // s3rver is CommonJS.
  const S3rver = createRequire(import.meta.url)('s3rver') as new (options: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }], vhostBuckets: false });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    credentials: S3RVER_CREDENTIALS,
    env: { ATTACHMENT_STORE: 's3', S3_BUCKET: bucket, S3_REGION: 'us-east-1', S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey },
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The bytes a service keeps for an attachment row, read back through its store (or the row, for old rows). */
export async function storedBytes(service: { attachmentStores: import('../../src/services/attachments/stores.js').AttachmentStores }, row: { store: string | null; content_key: string | null; content?: Uint8Array | null }): Promise<Buffer | null> {
  if (!row.store || !row.content_key) return row.content ? Buffer.from(row.content) : null;
  const body = await service.attachmentStores.get(row.store as 'database')?.get(row.content_key);
  if (!body) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
