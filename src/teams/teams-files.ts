import { Readable } from 'node:stream';
import { Parser } from 'htmlparser2';
import type { TurnContext } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import { originAllowed } from '../domain/origin-pattern.js';
import type { IncomingFile, KeptFiles, TicketFiles } from '../services/attachments/ticket-files.js';

/**
 * The files in a Teams message, as Teams hands them to a bot
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/bots-filesv4):
 * - a file sent in a personal chat: `application/vnd.microsoft.teams.file.download.info`, whose
 *   `content.downloadUrl` is a short-lived pre-authenticated SharePoint/OneDrive URL (no token sent);
 * - an inline image (a pasted screenshot): `image/*` with a `contentUrl` on the Bot Connector's
 *   attachments API (`…/v3/attachments/{id}/views/original`), read with the bot's own token;
 * - a file shared in a channel or group chat: bots get no file there, only the message's HTML with a
 *   link to the file in SharePoint (or, from some clients, a `reference` attachment naming it); Teams
 *   gives bots no way to read those files (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/bots-filesv4),
 *   so the link is kept, and whoever opens it does so with their own SharePoint permissions.
 * Nothing is fetched from any other address: a downloadUrl must be on TEAMS_FILE_HOSTS and an inline
 * image on the activity's own serviceUrl (already checked against ALLOWED_SERVICE_URLS), so a forged
 * attachment can neither make the service fetch an internal URL nor receive the bot's token.
 * Redirects are not followed, for the same reason.
 */

export const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';

export interface TeamsAttachment {
  contentType?: string;
  contentUrl?: string;
  name?: string;
  content?: unknown;
}

export interface TeamsFilesOptions {
  /** Origins a download.info `downloadUrl` may be on (TEAMS_FILE_HOSTS). */
  downloadOrigins: readonly string[];
  /** Longest one file's download may take (default 15 s: the turn waits for it). */
  timeoutMs?: number;
  /**
   * Longest all of one message's files may take together (default 10 s): the turn waits for them, and
   * the Bot Service gives a turn 10 to 15 s before it answers the client 504
   * (https://learn.microsoft.com/azure/bot-service/bot-builder-howto-long-operations-guidance).
   */
  turnBudgetMs?: number;
}

/** The files among a message's attachments (cards, the HTML body and mentions are not files). */
export function teamsFilesOf(
  attachments: readonly TeamsAttachment[] | undefined,
  serviceUrl: string | undefined,
  options: TeamsFilesOptions,
  botToken: () => Promise<string | undefined>,
  budget?: AbortSignal,
): { files: IncomingFile[]; refused: Array<{ name: string; reason: string }> } {
  const files: IncomingFile[] = [];
  const refused: Array<{ name: string; reason: string }> = [];
  for (const a of attachments ?? []) {
    const type = String(a.contentType ?? '');
    const name = typeof a.name === 'string' ? a.name : '';
    if (type === FILE_DOWNLOAD_INFO) {
      const content = (a.content ?? {}) as { downloadUrl?: unknown; uniqueId?: unknown; fileType?: unknown };
      const url = typeof content.downloadUrl === 'string' ? content.downloadUrl : '';
      if (!url || !originAllowed(url, options.downloadOrigins) || !isHttps(url, options.downloadOrigins)) {
        refused.push({ name: name || 'file', reason: 'its download address is not a SharePoint or OneDrive host this desk fetches from' });
        continue;
      }
      files.push({
        origin: 'teams-file',
        sourceId: typeof content.uniqueId === 'string' ? content.uniqueId.slice(0, 200) : null,
        name: name || `file.${typeof content.fileType === 'string' ? content.fileType : 'bin'}`,
        contentType: contentTypeOf(name, typeof content.fileType === 'string' ? content.fileType : undefined),
        declaredSize: null,
        open: () => download(url, undefined, options.timeoutMs, budget),
        linkUrl: typeof a.contentUrl === 'string' && originAllowed(a.contentUrl, options.downloadOrigins) ? a.contentUrl : null,
      });
    } else if (/^image\//i.test(type) && typeof a.contentUrl === 'string') {
      if (!onServiceAttachments(a.contentUrl, serviceUrl)) {
        refused.push({ name: name || 'image', reason: 'the image is not on this conversation\'s Teams service' });
        continue;
      }
      const url = a.contentUrl;
      files.push({
        origin: 'teams-image',
        sourceId: null,
        name: name || `image.${type.slice(6).split(/[;+]/)[0] || 'png'}`,
        contentType: type,
        declaredSize: null,
        open: async () => download(url, await botToken(), options.timeoutMs, budget),
        linkUrl: null,
      });
    } else if (type === 'reference' && typeof a.contentUrl === 'string' && originAllowed(a.contentUrl, options.downloadOrigins)) {
      files.push(sharedLink(a.contentUrl, name));
    } else if (type === 'text/html' && typeof a.content === 'string') {
      for (const link of sharePointLinksIn(a.content, options.downloadOrigins)) {
        if (!files.some((f) => f.linkUrl === link.url)) files.push(sharedLink(link.url, link.text));
      }
    }
  }
  return { files, refused };
}

function sharedLink(url: string, name: string): IncomingFile {
  const shown = name.trim() || lastPathPart(url) || 'shared file';
  return { origin: 'teams-link', sourceId: null, name: shown, contentType: contentTypeOf(shown, undefined), declaredSize: 0, linkUrl: url.slice(0, 2000) };
}

/** The file name at the end of a link's path; a badly escaped one is shown as it is, never a reason to fail. */
function lastPathPart(url: string): string {
  let part: string;
  try {
    part = new URL(url).pathname.split('/').pop() ?? '';
  } catch {
    return '';
  }
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Links to SharePoint/OneDrive (TEAMS_FILE_HOSTS) in a message's HTML, with their text. */
function sharePointLinksIn(html: string, origins: readonly string[]): Array<{ url: string; text: string }> {
  const links: Array<{ url: string; text: string }> = [];
  let open: { url: string; text: string } | undefined;
  const parser = new Parser({
    onopentag(tag, attributes) {
      if (tag !== 'a') return;
      const href = attributes.href ?? '';
      open = originAllowed(href, origins) ? { url: href, text: '' } : undefined;
    },
    ontext(text) {
      if (open && open.text.length < 200) open.text += text;
    },
    onclosetag(tag) {
      if (tag === 'a' && open) links.push(open);
      if (tag === 'a') open = undefined;
    },
  }, { decodeEntities: true });
  // Bounded: a message's HTML is at most what the endpoint accepts (MAX_BODY_BYTES).
  parser.write(html);
  parser.end();
  return links.slice(0, 20);
}

/**
 * Keeps the files of this turn's message on a ticket the caller has just changed (so the person may
 * write on it): for `new`, `reply`, `note`, replies in a ticket's thread, and tickets made from a
 * message. A file that cannot be fetched is reported, never thrown.
 */
export async function storeTeamsFiles(
  context: TurnContext,
  deps: { files: TicketFiles; options: TeamsFilesOptions },
  ticketId: number,
  attachments: readonly TeamsAttachment[] | undefined,
  who: { authorId: number; visibility: 'public' | 'internal' },
): Promise<KeptFiles> {
  // One budget for all of the message's files: a slow host can't hold the turn past Teams' patience.
  const budget = AbortSignal.timeout(deps.options.turnBudgetMs ?? 10_000);
  const { files, refused } = teamsFilesOf(attachments, context.activity.serviceUrl, deps.options, () => botTokenOf(context), budget);
  const kept = files.length > 0 ? await deps.files.keep(ticketId, files, who) : { kept: [], failed: [] };
  return { kept: kept.kept, failed: [...refused, ...kept.failed] };
}

/** True when the message carries anything `teamsFilesOf` would keep or refuse. */
export function hasFiles(attachments: readonly TeamsAttachment[] | undefined, options: TeamsFilesOptions): boolean {
  return (attachments ?? []).some(
    (a) =>
      a.contentType === FILE_DOWNLOAD_INFO ||
      a.contentType === 'reference' ||
      /^image\//i.test(String(a.contentType ?? '')) ||
      (a.contentType === 'text/html' && typeof a.content === 'string' && sharePointLinksIn(a.content, options.downloadOrigins).length > 0),
  );
}

/** The bot's token for the Bot Connector, from the turn's connector client (MSAL caches it). */
export async function botTokenOf(context: TurnContext): Promise<string | undefined> {
  const client = context.turnState.get<ConnectorClient>(context.adapter.ConnectorClientKey) as unknown as { credentials?: { getToken?: () => Promise<string> } } | undefined;
  const token = await client?.credentials?.getToken?.();
  return token || undefined;
}

/** An inline image must be under the activity's serviceUrl, on its attachments API. */
function onServiceAttachments(contentUrl: string, serviceUrl: string | undefined): boolean {
  if (!serviceUrl) return false;
  let url: URL;
  let service: URL;
  try {
    url = new URL(contentUrl);
    service = new URL(serviceUrl);
  } catch {
    return false;
  }
  if (url.username || url.password || url.origin !== service.origin) return false;
  return url.pathname.startsWith(service.pathname.replace(/\/?$/, '/')) && url.pathname.includes('/v3/attachments/');
}

/** https only, except origins the operator listed as http on purpose (a test peer on loopback). */
function isHttps(url: string, origins: readonly string[]): boolean {
  return url.startsWith('https://') || origins.some((o) => o.startsWith('http://'));
}

async function download(url: string, token: string | undefined, timeoutMs = 15_000, budget?: AbortSignal): Promise<Readable> {
  const response = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    redirect: 'error',
    signal: budget ? AbortSignal.any([AbortSignal.timeout(timeoutMs), budget]) : AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`Teams answered ${response.status} when the file was fetched`);
  }
  return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
}

const TYPES: Record<string, string> = {
  txt: 'text/plain', log: 'text/plain', csv: 'text/csv', pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif',
  zip: 'application/zip', json: 'application/json', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** Teams gives a file's extension (`fileType`), not its media type. */
function contentTypeOf(name: string, fileType: string | undefined): string {
  const ext = (fileType ?? name.split('.').pop() ?? '').toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}
