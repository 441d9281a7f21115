import { Tokenizer } from 'htmlparser2';
import { z } from 'zod';
import { htmlToText } from './mail/html-text.js';
import { DESCRIPTION_MAX, subjectFrom } from './tickets.js';

/**
 * What a Teams message says, read from the `messagePayload` Teams puts in a message action's invoke
 * (`composeExtension/fetchTask` and `/submitAction` from a message's "…" menu). Its shape is Graph's
 * chatMessage (https://learn.microsoft.com/en-us/microsoftteams/platform/messaging-extensions/how-to/action-commands/create-task-module,
 * https://learn.microsoft.com/en-us/graph/api/resources/chatmessage): an HTML or text body, the author
 * (`from.user`, or `from.application` for a bot or webhook), the people @mentioned, the files shared
 * with it (`attachments` of contentType `reference`, SharePoint/OneDrive links:
 * https://learn.microsoft.com/en-us/graph/api/resources/chatmessageattachment) and a deep link back to
 * it (`linkToMessage`). Pure: the same payload always reads the same, and nothing in it is trusted
 * beyond its shape (links must be http(s), names are text).
 */

/**
 * Longest body read, twice the about 28 KB Teams allows a message
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/format-your-bot-messages);
 * beyond that it is not a message Teams sent. It also bounds what the image scan's parser may be
 * made to hold open (htmlparser2's open-element stack grows by the nesting depth).
 */
const BODY_MAX = 64 * 1024;
/** Longest link kept (SharePoint links are long, but not this long). */
const URL_MAX = 2_000;
/** Files listed from one message. */
const FILES_MAX = 50;
/** People @mentioned kept from one message (each may be offered as the requester). */
const MENTIONS_MAX = 10;
/** What the links written under a ticket's description may take, so the person's words keep the most room. */
const LINKS_MAX = 1_200;

const identity = z
  .object({ id: z.string().max(200).nullish(), displayName: z.string().max(300).nullish(), userIdentityType: z.string().max(100).nullish() })
  .passthrough()
  .nullish();

const payloadSchema = z
  .object({
    id: z.string().max(200).nullish(),
    replyToId: z.string().max(200).nullish(),
    subject: z.string().max(1_000).nullish(),
    linkToMessage: z.string().max(URL_MAX).nullish(),
    body: z.object({ contentType: z.string().max(100).nullish(), content: z.string().nullish() }).passthrough().nullish(),
    from: z.object({ user: identity, application: identity }).passthrough().nullish(),
    mentions: z
      .array(z.object({ id: z.union([z.number(), z.string()]).nullish(), mentionText: z.string().max(300).nullish(), mentioned: z.object({ user: identity }).passthrough().nullish() }).passthrough())
      .max(500)
      .nullish(),
    attachments: z
      .array(z.object({ id: z.string().max(200).nullish(), contentType: z.string().max(200).nullish(), contentUrl: z.string().max(URL_MAX).nullish(), name: z.string().max(500).nullish() }).passthrough())
      .max(500)
      .nullish(),
  })
  .passthrough();

export interface MessagePerson {
  /** The person's Microsoft Entra object id (`userIdentityType: aadUser`). */
  aadObjectId: string;
  name: string;
}

export interface MessageFile {
  name: string;
  url: string;
  /** `file`: shared with the message (a SharePoint/OneDrive link); `image`: pasted into the body. */
  kind: 'file' | 'image';
}

export interface TeamsMessage {
  /** The message's id in its conversation. */
  id: string | null;
  /** For a reply in a channel thread: the id of the thread's first message. */
  replyToId: string | null;
  /** Deep link back to the message (https only). */
  link: string | null;
  /** Who wrote it, when a person did (not a bot or webhook). */
  author: MessagePerson | null;
  /** The message's own subject (channel posts may have one) or its first line. */
  subject: string;
  /** The body as plain text: mentions as the names shown, links as "text (url)", no markup. */
  text: string;
  /** People @mentioned, each once, the first few. */
  mentions: MessagePerson[];
  files: MessageFile[];
}

/** The message in a message action's payload, or undefined when there is none (compose box, command box) or it is not one. */
export function readTeamsMessage(payload: unknown): TeamsMessage | undefined {
  if (payload === undefined || payload === null) return undefined;
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  const content = (p.body?.content ?? '').slice(0, BODY_MAX);
  const isHtml = (p.body?.contentType ?? 'html').toLowerCase() === 'html';
  // Teams writes spaces the person typed twice as &nbsp;: as text they are plain spaces.
  const text = (isHtml ? htmlToText(content) : content).replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ').trim();
  const mentions = new Map<string, MessagePerson>();
  for (const m of p.mentions ?? []) {
    const user = m.mentioned?.user;
    if (mentions.size < MENTIONS_MAX && user?.id && isAadUser(user)) mentions.set(user.id, { aadObjectId: user.id, name: (user.displayName ?? m.mentionText ?? '').trim() || 'Someone' });
  }
  const author = p.from?.user?.id && isAadUser(p.from.user) ? { aadObjectId: p.from.user.id, name: p.from.user.displayName?.trim() || 'Someone' } : null;
  const files: MessageFile[] = [];
  for (const a of p.attachments ?? []) {
    const url = httpUrl(a.contentUrl);
    // Cards, quoted replies (messageReference) and the like carry no file; a shared file is a link.
    if (url && a.contentType?.toLowerCase() === 'reference') files.push({ name: cleanName(a.name) || fileNameOf(url), url, kind: 'file' });
  }
  if (isHtml) files.push(...inlineImages(content));
  return {
    id: p.id ?? null,
    replyToId: p.replyToId ?? null,
    link: httpUrl(p.linkToMessage, ['https:']) ?? null,
    author,
    subject: subjectFrom(cleanName(p.subject) || text.split('\n').find((line) => line.trim() !== '') || ''),
    text,
    mentions: [...mentions.values()],
    files: dedupe(files).slice(0, FILES_MAX),
  };
}

/**
 * The lines a ticket keeps about where it came from, written under its description: the message's
 * files and images as links, and the link back to the message. Capped, so the person's words keep
 * most of the description's room; what does not fit is counted.
 */
export function messageLinksText(message: Pick<TeamsMessage, 'files' | 'link'>): string {
  const lines: string[] = [];
  let size = 0;
  let left = message.files.length;
  if (left > 0) lines.push('Files from the message:');
  for (const file of message.files) {
    const line = `- ${file.name}: ${file.url}`;
    if (size + line.length > LINKS_MAX - 200) break;
    lines.push(line);
    size += line.length + 1;
    left -= 1;
  }
  if (left > 0) lines.push(`- and ${left} more`);
  if (message.link) lines.push(`Original message: ${message.link}`);
  return lines.join('\n');
}

/** How long the description a person types may be, once the message's links are added under it. */
export function descriptionRoom(linksText: string): number {
  return linksText ? DESCRIPTION_MAX - linksText.length - 2 : DESCRIPTION_MAX;
}

/** The description the dialog starts with: the message's text, cut to the room there is. */
export function draftDescription(message: Pick<TeamsMessage, 'text'>, room: number): string {
  return message.text.length > room ? `${message.text.slice(0, room - 1)}…` : message.text;
}

const isAadUser = (user: { userIdentityType?: string | null | undefined }) => !user.userIdentityType || user.userIdentityType === 'aadUser';

/** The address if it is an absolute URL with an allowed scheme (never `javascript:` or `data:`), else undefined. */
function httpUrl(value: string | null | undefined, schemes: readonly string[] = ['https:', 'http:']): string | undefined {
  if (!value || value.length > URL_MAX) return undefined;
  try {
    const url = new URL(value.trim());
    return schemes.includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** A name as one line of text: no control characters or line breaks. */
function cleanName(name: string | null | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (name ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 200);
}

function fileNameOf(url: string): string {
  const last = new URL(url).pathname.split('/').filter(Boolean).pop();
  try {
    return cleanName(last ? decodeURIComponent(last) : '') || 'file';
  } catch {
    return cleanName(last) || 'file';
  }
}

/**
 * Images pasted into the body (`<img src>`): Teams hosts them and the body links them. Read with
 * htmlparser2's tokenizer alone: it keeps no stack of open elements (the Parser's grows with the
 * nesting depth, a cost per tag), and an image is all we look for.
 */
function inlineImages(html: string): MessageFile[] {
  const images: MessageFile[] = [];
  let tag = '';
  let name = '';
  let value = '';
  let attributes: Record<string, string> = {};
  const finishTag = () => {
    if (tag !== 'img' || images.length >= FILES_MAX) return;
    const url = httpUrl(attributes.src);
    if (url) images.push({ name: cleanName(attributes.alt) || `image ${images.length + 1}`, url, kind: 'image' });
  };
  const ignore = () => undefined;
  const tokenizer = new Tokenizer(
    { decodeEntities: true },
    {
      onopentagname(start, end) {
        tag = html.slice(start, end).toLowerCase();
        attributes = {};
      },
      onattribname(start, end) {
        name = html.slice(start, end).toLowerCase();
        value = '';
      },
      onattribdata(start, end) {
        if (tag === 'img' && value.length <= URL_MAX) value += html.slice(start, Math.min(end, start + URL_MAX + 1));
      },
      onattribentity(codepoint) {
        if (tag === 'img' && value.length <= URL_MAX) value += String.fromCodePoint(codepoint);
      },
      onattribend() {
        if (tag === 'img' && !(name in attributes)) attributes[name] = value;
      },
      onopentagend: finishTag,
      onselfclosingtag: finishTag,
      onclosetag: ignore,
      ontext: ignore,
      ontextentity: ignore,
      oncomment: ignore,
      oncdata: ignore,
      ondeclaration: ignore,
      onprocessinginstruction: ignore,
      onend: ignore,
    },
  );
  tokenizer.write(html);
  tokenizer.end();
  return images;
}

function dedupe(files: MessageFile[]): MessageFile[] {
  const seen = new Set<string>();
  return files.filter((f) => (seen.has(f.url) ? false : (seen.add(f.url), true)));
}
