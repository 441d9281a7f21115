import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response, Server } from 'restify';
import { contentDisposition } from '../domain/attachment-types.js';
import type { Logger } from '../logger.js';

/**
 * `GET /api/attachments/:key?aud=…&exp=…&sig=…`: a ticket's file, for the person a signed link was
 * made for (src/domain/attachment-links.ts; the checks are TicketFiles.open's). Browsers open these
 * links from a card or a chat message, so the signature is the credential: an attachment's key alone
 * gets a 403. The file is always a download (never rendered by the browser on our origin), streamed
 * from the attachment store, or (stores with signed URLs: Azure Blob, S3) a redirect to a URL of the
 * store that works for a minute.
 */

export interface AttachmentDownloads {
  open(key: string, query: { aud: string | null; exp: string | null; sig: string | null }): Promise<
    | { status: 200; attachment: { name: string; contentType: string; size: number; storage: string }; body: Readable }
    | { status: 302; location: string }
    | { status: 403 | 404 | 409 | 410; reason: string }
  >;
}

export function registerAttachmentRoutes(server: Server, downloads: AttachmentDownloads | undefined, logger: Logger, explained: (res: Response) => void): void {
  server.get('/api/attachments/:key', async (req: Request, res: Response) => {
    if (!downloads) {
      res.send(404, { error: 'attachments are not served by this service' });
      return;
    }
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const key = String(req.params.key ?? '').slice(0, 40);
    const outcome = await downloads.open(key, { aud: params.get('aud'), exp: params.get('exp'), sig: params.get('sig') });
    if (outcome.status === 302) {
      // The checks above passed: the store serves the bytes itself, through a URL that works for a
      // minute (its own Content-Disposition: attachment and type). Never cached: it is personal.
      res.writeHead(302, { Location: outcome.location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Content-Type-Options': 'nosniff' });
      res.end();
      return;
    }
    if (outcome.status !== 200) {
      explained(res);
      logger.warn({ key, status: outcome.status, reason: outcome.reason }, 'attachment download refused');
      res.setHeader('Cache-Control', 'no-store');
      res.send(outcome.status, { error: outcome.reason });
      return;
    }
    const { attachment, body } = outcome;
    res.writeHead(200, {
      'Content-Type': attachment.contentType,
      'Content-Disposition': contentDisposition(attachment.name),
      // A link is personal and short-lived: no shared cache keeps the file.
      'Cache-Control': 'private, no-store',
      // Even if a browser rendered it, the file runs no script on our origin.
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'X-Content-Type-Options': 'nosniff',
    });
    try {
      await pipeline(body, res);
    } catch (error) {
      // The client went away, or the file vanished mid-way (retention): the answer is already started.
      logger.warn({ key, err: error }, 'attachment download interrupted');
      res.destroy();
    }
  });
}

export { contentDisposition };
