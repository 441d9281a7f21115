import type { Application, TurnState } from '@microsoft/teams-ai';
import type { Activity, TurnContext } from 'botbuilder';
import { filesCard, type AttachmentView } from '../../cards/attachments-section.js';
import { confirmationCard } from '../../cards/confirmation-card.js';
import { cardMessage } from '../../cards/adaptive-card.js';
import { originAllowed } from '../../domain/origin-pattern.js';
import type { Audience } from '../../domain/roles.js';
import type { Actor } from '../../services/actors.js';
import { scanNote, scanRefusal, type TicketFiles } from '../../services/attachments/ticket-files.js';
import type { TicketAttachment } from '../../store/ticket-attachments.js';
import { conversationOf } from '../command-runner.js';
import { callerOf as callerFromActivity, type Where } from '../turn.js';
import type { TeamsFilesOptions } from '../teams-files.js';
import type { TurnServices } from './turn-services.js';

/**
 * Getting a ticket's files back in Teams: `files INC-42` answers with the list and links signed for
 * the asker; `file INC-42 2` also offers that file through Teams' file consent flow
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/bots-filesv4#send-files-to-personal-chat):
 * a FileConsentCard, then on "Allow" Teams gives an upload session in the person's OneDrive, the bot
 * PUTs the bytes there and posts a file info card. Personal chats only: links are personal, and Teams
 * offers file consent nowhere else.
 */

export interface FileServices {
  files: TicketFiles;
  options: TeamsFilesOptions;
  /** Link lifetime, said on the card. */
  linkTtlMs: number;
}

const FILE_CONSENT = 'application/vnd.microsoft.teams.card.file.consent';
const FILE_INFO = 'application/vnd.microsoft.teams.card.file.info';
/** OneDrive wants upload fragments in multiples of 320 KiB (https://learn.microsoft.com/en-us/graph/api/driveitem-createuploadsession#upload-bytes-to-the-upload-session). */
const FRAGMENT = 320 * 1024 * 13;

export async function answerFileCommand(context: TurnContext, deps: Pick<TurnServices, 'access'> & { fileServices: FileServices }, actor: Actor, where: Where, command: { ref: number | undefined; index: number | undefined }): Promise<void> {
  const say = (text: string, tone: 'good' | 'warning' = 'warning') => context.sendActivity(cardMessage(confirmationCard(text, tone), text) as Partial<Activity>);
  const ref = command.ref ?? where.threadTicketId;
  if (ref === undefined) return void (await say('Which ticket? Add its reference, e.g. “files INC-1042”.'));
  if (where.kind !== 'personal') return void (await say(`Files come with links made for you alone, so I send them only in your chat with me: type “files ${refText(ref)}” there.`));
  const view: Audience = await deps.access.viewFor(actor, conversationOf(actor, where));
  const listed = await deps.fileServices.files.list(actor, ref, view);
  if (!listed.ok) return void (await say(capitalize(listed.reason) + '.'));
  const { ticket, attachments } = listed.value;
  const views = attachments.map((a, i) => viewOf(a, i + 1, deps.fileServices.files, actor));
  if (command.index === undefined) {
    const card = filesCard(ticket.reference, views, ttlText(deps.fileServices.linkTtlMs));
    await context.sendActivity(cardMessage(card, card.fallbackText) as Partial<Activity>);
    return;
  }
  const chosen = attachments[command.index - 1];
  if (!chosen) return void (await say(`${ticket.reference} has ${attachments.length === 0 ? 'no files' : `files 1 to ${attachments.length}`}; “files ${ticket.reference}” lists them.`));
  const card = filesCard(ticket.reference, [views[command.index - 1]!], ttlText(deps.fileServices.linkTtlMs));
  const canSend = chosen.storage !== 'link' && !chosen.purged && !scanRefusal(chosen);
  await context.sendActivity({
    ...(cardMessage(card, card.fallbackText) as Partial<Activity>),
    ...(canSend
      ? {
          attachments: [
            ...((cardMessage(card, card.fallbackText) as Partial<Activity>).attachments ?? []),
            {
              contentType: FILE_CONSENT,
              name: chosen.name,
              content: {
                description: `${chosen.name} from ${ticket.reference}`,
                sizeInBytes: chosen.size,
                acceptContext: { ticketId: ticket.id, key: chosen.key },
                declineContext: { ticketId: ticket.id, key: chosen.key },
              },
            },
          ],
        }
      : {}),
  });
}

/** The file consent answers. The person is checked again: a card can be answered long after it was sent. */
export function registerFileConsent(app: Application<TurnState>, deps: Pick<TurnServices, 'access' | 'actors' | 'conversations' | 'logger'> & { fileServices: FileServices }): void {
  app.fileConsentAccept(async (context, _state, response) => {
    const say = (text: string, tone: 'good' | 'warning' = 'warning') => context.sendActivity(cardMessage(confirmationCard(text, tone), text) as Partial<Activity>);
    const asked = (response.context ?? {}) as { ticketId?: unknown; key?: unknown };
    const upload = (response.uploadInfo ?? {}) as { uploadUrl?: string; contentUrl?: string; name?: string; uniqueId?: string; fileType?: string };
    const actor = await deps.actors.identify(callerFromActivity(context.activity));
    if (typeof asked.ticketId !== 'number' || typeof asked.key !== 'string' || !upload.uploadUrl || !originAllowed(upload.uploadUrl, deps.fileServices.options.downloadOrigins)) {
      deps.logger.warn({ uploadHost: safeHost(upload.uploadUrl) }, 'refused a file consent answer: unknown file or upload address');
      return void (await say('I could not send that file: Teams gave an upload address I do not send files to.'));
    }
    const listed = await deps.fileServices.files.list(actor, asked.ticketId, isPersonal(context) ? await viewInPersonal(deps, actor, context) : 'requester');
    const file = listed.ok ? listed.value.attachments.find((a) => a.key === asked.key) : undefined;
    if (!file) return void (await say(listed.ok ? 'That file is no longer on the ticket, or not yours to see.' : capitalize(listed.reason) + '.'));
    // The scan's verdict is checked again here: the consent card may be older than it.
    const held = scanRefusal(file);
    if (held) return void (await say(`I did not send ${file.name}: ${held.reason}.`));
    const body = await deps.fileServices.files.contents(file);
    if (!body) return void (await say('That file’s contents are not kept any more.'));
    try {
      await uploadToSession(upload.uploadUrl, body, file.size);
    } catch (error) {
      deps.logger.warn({ err: error, key: file.key }, 'file consent upload failed');
      return void (await say('Teams did not take the file; ask again with “file …” in a minute.'));
    }
    await context.sendActivity({
      type: 'message',
      attachments: [{ contentType: FILE_INFO, contentUrl: upload.contentUrl, name: upload.name ?? file.name, content: { uniqueId: upload.uniqueId, fileType: upload.fileType } }],
    } as Partial<Activity>);
  });
  app.fileConsentDecline(async (context) => {
    await context.sendActivity(cardMessage(confirmationCard('OK, I did not send the file.', 'good'), 'File not sent') as Partial<Activity>);
  });
}

/** PUTs the file to a OneDrive upload session, in fragments with their Content-Range. */
async function uploadToSession(uploadUrl: string, body: AsyncIterable<Buffer>, size: number): Promise<void> {
  let sent = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const put = async (chunk: Buffer) => {
    const response = await fetch(uploadUrl, {
      method: 'PUT',
      headers: { 'content-length': String(chunk.length), 'content-range': `bytes ${sent}-${sent + chunk.length - 1}/${size}` },
      body: chunk,
      redirect: 'error',
      signal: AbortSignal.timeout(60_000),
    });
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw new Error(`the upload session answered ${response.status}`);
    sent += chunk.length;
  };
  for await (const part of body) {
    pending.push(part);
    pendingBytes += part.length;
    while (pendingBytes >= FRAGMENT) {
      const all = Buffer.concat(pending);
      await put(all.subarray(0, FRAGMENT));
      pending = [all.subarray(FRAGMENT)];
      pendingBytes = all.length - FRAGMENT;
    }
  }
  if (pendingBytes > 0 || sent === 0) await put(Buffer.concat(pending));
  if (sent !== size) throw new Error(`sent ${sent} of ${size} bytes`);
}

function viewOf(a: TicketAttachment, number: number, files: TicketFiles, actor: Actor): AttachmentView {
  const base = { number, name: a.name, contentType: a.contentType, size: a.size, internal: a.visibility === 'internal' };
  if (a.purged) return { ...base, note: 'deleted by retention' };
  // A file pending a scan or held back gets no link; one not scanned says so beside its link.
  if (a.storage !== 'link' && scanRefusal(a)) return { ...base, note: scanNote(a)! };
  if (a.storage !== 'link') return { ...base, url: files.linkFor(actor, a).url, ...(scanNote(a) ? { note: scanNote(a) } : {}) };
  if (a.origin === 'teams-link' && a.location) return { ...base, url: a.location, note: 'shared from SharePoint' };
  if (a.origin === 'teams-file' && a.location) return { ...base, url: a.location, note: 'too large to keep; in the sender’s OneDrive' };
  return { ...base, note: a.origin === 'email' ? 'too large to keep; in the mailbox' : 'too large to keep' };
}

const isPersonal = (context: TurnContext) => context.activity.conversation?.conversationType === 'personal';

async function viewInPersonal(deps: Pick<TurnServices, 'access'>, actor: Actor, context: TurnContext): Promise<Audience> {
  return deps.access.viewFor(actor, { id: 0, kind: 'personal', teamId: null, ownerRole: actor.role } as Parameters<TurnServices['access']['viewFor']>[1] & { id: number });
}

const refText = (id: number) => `#${id}`;
const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const ttlText = (ms: number) => (ms >= 3_600_000 ? `${Math.round(ms / 3_600_000)} h` : `${Math.round(ms / 60_000)} min`);
const safeHost = (url: string | undefined) => {
  try {
    return url ? new URL(url).host : undefined;
  } catch {
    return 'invalid';
  }
};
