import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * SharePoint/OneDrive as Teams uses it for bot files, on loopback: pre-authenticated download URLs
 * (a personal-chat file's `content.downloadUrl`, valid without a token, as Teams sends it:
 * https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/bots-filesv4) and OneDrive
 * upload sessions for file consent (PUT with Content-Range:
 * https://learn.microsoft.com/en-us/graph/api/driveitem-createuploadsession#upload-bytes-to-the-upload-session).
 */
export class FakeFileHost {
  private readonly server: Server;
  private readonly downloads = new Map<string, Buffer>();
  private readonly sessions = new Map<string, { name: string; received: Buffer[]; ranges: string[]; complete: boolean }>();
  readonly downloadRequests: Array<{ path: string; authorization: string | undefined }> = [];
  base = '';

  constructor() {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (answer) => {
          res.writeHead(answer.status, answer.headers ?? {});
          res.end(answer.body);
        },
        (error: unknown) => {
          res.writeHead(500);
          res.end(String(error));
        },
      );
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A file as a personal-chat attachment would name it: its pre-authenticated download URL. */
  addDownload(bytes: Buffer): string {
    const token = randomUUID();
    this.downloads.set(token, bytes);
    return `${this.base}/download.aspx?tempauth=${token}`;
  }

  /** A download URL whose host takes the request and never answers (a SharePoint that hangs). */
  addHangingDownload(): string {
    return `${this.base}/hang.aspx?tempauth=${randomUUID()}`;
  }

  /** A OneDrive upload session, as Teams hands one over in `uploadInfo`. */
  newUploadSession(name: string): { uploadUrl: string; contentUrl: string; uniqueId: string } {
    const id = randomUUID();
    this.sessions.set(id, { name, received: [], ranges: [], complete: false });
    return { uploadUrl: `${this.base}/upload/${id}`, contentUrl: `${this.base}/personal/Documents/Applications/${encodeURIComponent(name)}`, uniqueId: id };
  }

  uploaded(uploadUrl: string): { bytes: Buffer; ranges: string[]; complete: boolean } | undefined {
    const session = this.sessions.get(uploadUrl.split('/').pop()!);
    return session && { bytes: Buffer.concat(session.received), ranges: session.ranges, complete: session.complete };
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; headers?: Record<string, string>; body?: Buffer | string }> {
    const url = new URL(req.url ?? '/', this.base);
    if (req.method === 'GET' && url.pathname === '/hang.aspx') {
      this.downloadRequests.push({ path: url.pathname, authorization: req.headers.authorization });
      return new Promise(() => undefined);
    }
    if (req.method === 'GET' && url.pathname === '/download.aspx') {
      this.downloadRequests.push({ path: url.pathname, authorization: req.headers.authorization });
      const bytes = this.downloads.get(url.searchParams.get('tempauth') ?? '');
      return bytes ? { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: bytes } : { status: 401 };
    }
    const upload = /^\/upload\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'PUT' && upload) {
      const session = this.sessions.get(upload[1]!);
      if (!session) return { status: 404 };
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
      const body = await read(req);
      if (!range || Number(range[2]) - Number(range[1]) + 1 !== body.length || Number(range[1]) !== Buffer.concat(session.received).length) return { status: 416 };
      session.received.push(body);
      session.ranges.push(String(req.headers['content-range']));
      if (Number(range[2]) + 1 === Number(range[3])) {
        session.complete = true;
        return { status: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: upload[1], name: session.name, size: Number(range[3]) }) };
      }
      return { status: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nextExpectedRanges: [`${Number(range[2]) + 1}-`] }) };
    }
    return { status: 404 };
  }
}

function read(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
