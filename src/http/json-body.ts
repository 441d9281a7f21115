import type { Next, Request, RequestHandler, Response } from 'restify';

/**
 * The one body reader for every POST route: JSON only, capped before anything is parsed. restify's
 * bodyParser would also parse multipart (writing uploads to the temp folder before any route could
 * authenticate the sender), form bodies and gzip (whose inflated size its cap does not count); none of
 * our peers (Bot Framework, Graph, HubSpot) sends those. Refusals are JSON: 415 for another media type
 * or content encoding, 413 past `maxBytes` (from Content-Length when given, else while reading), 400
 * for text that is not JSON. The parsed value goes to `req.body`, the text as sent to `req.rawBody`
 * (signatures cover it).
 */
export function jsonBody(
  maxBytes: number,
  options: {
    skip?: (req: Request) => boolean;
    onRefused?: (res: Response, reason: string) => void;
    /** Paths whose peer posts `application/x-www-form-urlencoded` (Slack): kept as text in `rawBody`, not parsed. */
    formPaths?: readonly string[];
  } = {},
): RequestHandler {
  return (req: Request, res: Response, next: Next) => {
    if (req.method !== 'POST' || options.skip?.(req)) return next();
    const refuse = (status: number, error: string) => {
      // The rest of an unread body is not waited for: close the connection after answering.
      res.setHeader('Connection', 'close');
      options.onRefused?.(res, error);
      res.send(status, { error });
      next(false);
    };
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const form = mediaType === 'application/x-www-form-urlencoded' && (options.formPaths ?? []).includes(req.path());
    if (mediaType !== 'application/json' && !form) return refuse(415, 'send the body as Content-Type: application/json');
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') return refuse(415, 'compressed request bodies are not accepted');
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBytes) return refuse(413, `the body is larger than ${maxBytes} bytes`);

    const chunks: Buffer[] = [];
    let received = 0;
    let finished = false;
    const finish = (outcome: () => void) => {
      if (finished) return;
      finished = true;
      req.removeListener('data', onData);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        finish(() => {
          req.pause();
          refuse(413, `the body is larger than ${maxBytes} bytes`);
        });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () =>
      finish(() => {
        const text = Buffer.concat(chunks).toString('utf8');
        (req as Request & { rawBody?: string }).rawBody = text;
        // A form is read by its route, after the signature over these exact bytes is checked.
        if (form) return next();
        try {
          req.body = text === '' ? undefined : JSON.parse(text);
        } catch (error) {
          const reason = `Invalid JSON: ${(error as Error).message}`;
          options.onRefused?.(res, reason);
          res.send(400, { error: reason });
          next(false);
          return;
        }
        next();
      }),
    );
    req.once('error', (error) => finish(() => next(error)));
    req.resume();
  };
}
