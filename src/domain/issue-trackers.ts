import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Engineering issues in Linear or Jira linked to tickets, the pure part: reading what an agent typed or
 * pasted as an issue, the tracker's state as a category the status map understands, which actions the
 * map asks for, the webhook signatures, and the tag that marks comments the desk wrote itself.
 */

export const TRACKERS = ['linear', 'jira'] as const;
export type TrackerName = (typeof TRACKERS)[number];
export const TRACKER_LABELS: Record<TrackerName, string> = { linear: 'Linear', jira: 'Jira' };

/**
 * Where an issue stands, whatever the tracker calls it. Linear's workflow state types are triage,
 * backlog, unstarted, started, completed and canceled (https://linear.app/docs/configuring-workflows);
 * Jira's status categories are new ("To Do"), indeterminate ("In Progress") and done
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-status-categories/).
 */
export const STATE_CATEGORIES = ['todo', 'started', 'done', 'canceled'] as const;
export type StateCategory = (typeof STATE_CATEGORIES)[number];

export function linearCategory(stateType: string): StateCategory {
  switch (stateType) {
    case 'completed':
      return 'done';
    case 'canceled':
      return 'canceled';
    case 'started':
      return 'started';
    default:
      return 'todo';
  }
}

export function jiraCategory(categoryKey: string): StateCategory {
  return categoryKey === 'done' ? 'done' : categoryKey === 'indeterminate' ? 'started' : 'todo';
}

/** An issue as the desk shows it on a ticket card. */
/** A tracker's ISO 8601 time (Linear `2026-11-23T10:00:00.000Z`, Jira `2026-11-23T10:00:00.000+0000`) as epoch ms. */
export function trackerTime(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

export interface IssueView {
  tracker: TrackerName;
  key: string;
  title: string;
  url: string;
  state: string;
  category: StateCategory;
  /** When the tracker last changed the issue (Linear `updatedAt`, Jira `fields.updated`), epoch ms, when it says. */
  changedAt?: number;
}

/** What an agent named: the tracker when the text says it (a prefix or a URL), and the issue's key. */
export interface IssueRef {
  tracker: TrackerName | undefined;
  key: string;
}

/** Issue keys in both trackers: a team or project key, a dash, a number (ENG-123, OPS-7). */
const KEY = /^([A-Za-z][A-Za-z0-9_]{0,19})-(\d{1,9})$/;

/**
 * Reads `ENG-123`, `linear:ENG-123`, `jira:OPS-7`, a Linear issue URL
 * (`https://linear.app/<workspace>/issue/ENG-123/<slug>`) or a Jira one (`https://<site>.atlassian.net/browse/OPS-7`,
 * or on `jiraHosts`). Undefined when it is none of these.
 */
export function parseIssueRef(text: string, jiraHosts: readonly string[] = []): IssueRef | undefined {
  const raw = text.trim().replace(/^<|>$/g, '');
  if (/^https?:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return undefined;
    }
    const host = url.hostname.toLowerCase();
    const parts = url.pathname.split('/').filter(Boolean);
    if (host === 'linear.app') {
      const at = parts.indexOf('issue');
      const key = at >= 0 ? parts[at + 1] : undefined;
      return key && KEY.test(key) ? { tracker: 'linear', key: key.toUpperCase() } : undefined;
    }
    if (host.endsWith('.atlassian.net') || jiraHosts.includes(host)) {
      const key = parts[0] === 'browse' ? parts[1] : (url.searchParams.get('selectedIssue') ?? undefined);
      return key && KEY.test(key) ? { tracker: 'jira', key: key.toUpperCase() } : undefined;
    }
    return undefined;
  }
  const prefixed = /^(linear|jira):(.+)$/i.exec(raw);
  const key = (prefixed ? prefixed[2]! : raw).trim();
  if (!KEY.test(key)) return undefined;
  return { tracker: prefixed ? (prefixed[1]!.toLowerCase() as TrackerName) : undefined, key: key.toUpperCase() };
}

/** What a change of an issue's state does to each ticket linking it (the `trackers.statusMap` of the rules file). */
export type StatusAction = { kind: 'pending' } | { kind: 'notify-assignee' } | { kind: 'reply'; text: string };

/** Keys: a state's name ("in review") or a category (done, canceled, …), lower-case. */
export type StatusMap = Readonly<Record<string, readonly StatusAction[]>>;

/** The actions for a state: its name's entry when the map has one, else its category's, else none. */
export function actionsFor(map: StatusMap, state: string, category: StateCategory): readonly StatusAction[] {
  return map[state.trim().toLowerCase()] ?? map[category] ?? [];
}

/** Comments go tracker → internal note (`to-ticket`, the default), or both ways. */
export type CommentDirection = 'to-ticket' | 'both' | 'none';

/**
 * The tag that starts every comment the desk posts to a tracker. Ids recorded both ways already keep a
 * comment from coming back; the tag also catches our comment when the tracker's webhook arrives before
 * the call that posted it has answered with its id.
 */
export const OUR_COMMENT_TAG = '[Service Desk]';

export function trackerCommentText(ticketReference: string, author: string, body: string): string {
  return `${OUR_COMMENT_TAG} ${ticketReference} · ${author}:\n\n${body}`;
}

export const isOurComment = (body: string): boolean => body.trimStart().startsWith(OUR_COMMENT_TAG);

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** `provided` is the hex HMAC-SHA256 of `raw` with `secret` (after stripping `prefix`, e.g. `sha256=`); compared in constant time. */
export function verifyHexHmac(secret: string, raw: string, provided: string | undefined, prefix = ''): SignatureCheck {
  if (!provided) return { ok: false, reason: 'the signature header is missing' };
  const given = provided.trim().toLowerCase();
  if (prefix && !given.startsWith(prefix)) return { ok: false, reason: `the signature does not start with ${prefix}` };
  const expected = Buffer.from(hexHmac(secret, raw), 'utf8');
  const actual = Buffer.from(given.slice(prefix.length), 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? { ok: true } : { ok: false, reason: 'the signature does not match' };
}

export const hexHmac = (secret: string, raw: string): string => createHmac('sha256', secret).update(raw, 'utf8').digest('hex');

/**
 * Linear puts `webhookTimestamp` (epoch ms) in the body and asks receivers to refuse a delivery more
 * than a minute away from their clock, against replays (https://linear.app/developers/webhooks).
 */
export const LINEAR_TIMESTAMP_WINDOW_MS = 60_000;

export function linearTimestampCheck(webhookTimestamp: unknown, now: number): SignatureCheck {
  if (typeof webhookTimestamp !== 'number' || !Number.isFinite(webhookTimestamp)) return { ok: false, reason: 'webhookTimestamp is missing' };
  return Math.abs(now - webhookTimestamp) <= LINEAR_TIMESTAMP_WINDOW_MS ? { ok: true } : { ok: false, reason: 'webhookTimestamp is more than a minute away' };
}
