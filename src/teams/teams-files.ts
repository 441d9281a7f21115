import { Readable } from 'node:stream';
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
 * - a file shared in a channel or group chat: a `reference` to its SharePoint location, which bots
 *   cannot read (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/bots-filesv4#receive-files-in-channel-or-groupchat-scope),
 *   kept as a link.
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
  /** Longest one file's download may take. */
  timeoutMs?: number;
}

/** The files among a message's attachments (cards, the HTML body and mentions are not files). */
export function teamsFilesOf(attachments: readonly TeamsAttachment[] | undefined, serviceUrl: string | undefined, options: TeamsFilesOptions, botToken: () => Promise<string | undefined>): { files: IncomingFile[]; refused: Array<{ name: string; reason: string }> } {
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
        open: () => download(url, undefined, options.timeoutMs),
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
        open: async () => download(url, await botToken(), options.timeoutMs),
        linkUrl: null,
      });
    } else if (type === 'reference' && typeof a.contentUrl === 'string' && /^https:\/\//i.test(a.contentUrl)) {
      // Shared from SharePoint: whoever opens it does so with their own SharePoint permissions.
      files.push({ origin: 'teams-link', sourceId: null, name: name || 'shared file', contentType: contentTypeOf(name, undefined), declaredSize: 0, linkUrl: a.contentUrl.slice(0, 2000) });
    }
  }
  return { files, refused };
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
  const { files, refused } = teamsFilesOf(attachments, context.activity.serviceUrl, deps.options, () => botTokenOf(context));
  const kept = files.length > 0 ? await deps.files.keep(ticketId, files, who) : { kept: [], failed: [] };
  return { kept: kept.kept, failed: [...refused, ...kept.failed] };
}

/** True when the message carries anything `teamsFilesOf` would keep or refuse. */
export function hasFiles(attachments: readonly TeamsAttachment[] | undefined): boolean {
  return (attachments ?? []).some((a) => a.contentType === FILE_DOWNLOAD_INFO || a.contentType === 'reference' || /^image\//i.test(String(a.contentType ?? '')));
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

async function download(url: string, token: string | undefined, timeoutMs = 60_000): Promise<Readable> {
  const response = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
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
