import { z } from 'zod';
import { jiraCategory, trackerTime, verifyHexHmac, type IssueView } from '../../domain/issue-trackers.js';
import { OutboundPeer, type PeerOptions } from '../outbound/peer.js';
import { DEFAULT_TRACKER_RETRY, errorOfStatus, headerOf, TrackerError, trackerVendor, type Tracker, type TrackerEvent, type TrackerProject, type VerifiedWebhook } from './port.js';

/**
 * Jira Cloud through REST v3 (https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/), with
 * basic auth of an account's email and API token
 * (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/). Create is
 * POST /rest/api/3/issue, whose description (like a comment's body) is Atlassian Document Format
 * (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/); an issue's state is
 * GET /rest/api/3/issue/{key}?fields=status,summary, with the status's category (new, indeterminate, done).
 *
 * Webhooks registered by an admin with a secret carry `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the
 * body>` and `X-Atlassian-Webhook-Identifier`, unique per delivery and the same across its retries
 * (https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks). That header is
 * not signed, so the replay check (IssueLinks.receive) also keys on the body's SHA-256, and the body's
 * `timestamp` (signed) bounds how long a captured body could be resent.
 */

export interface JiraOptions {
  baseUrl: string;
  email: string;
  apiToken: string;
  webhookSecret: string | undefined;
  /** The issue type new issues get (default Task: every Jira Software and Work Management project has it). */
  issueType?: string;
}

/** A delivery whose body says it is older than this is refused as stale (its identifier is remembered twice as long). */
export const JIRA_WEBHOOK_MAX_AGE_MS = 60 * 60_000;
/** How far ahead of our clock a delivery's timestamp may be (the two clocks' skew), as Linear's window allows. */
export const JIRA_WEBHOOK_MAX_SKEW_MS = 60_000;

const issueBody = z.object({
  key: z.string(),
  // `updated` orders what the desk hears of an issue (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-get).
  fields: z.object({ summary: z.string(), updated: z.string().optional(), status: z.object({ name: z.string(), statusCategory: z.object({ key: z.string() }) }) }),
});

const webhook = z.object({
  timestamp: z.number().optional(),
  webhookEvent: z.string(),
  issue: issueBody.partial({ fields: true }).optional(),
  comment: z.object({ id: z.union([z.string(), z.number()]), body: z.unknown(), author: z.object({ displayName: z.string() }).partial().optional() }).optional(),
});

export class JiraTracker implements Tracker {
  readonly name = 'jira' as const;
  private readonly peer: OutboundPeer<TrackerError>;
  private readonly base: string;

  constructor(
    private readonly options: JiraOptions,
    retry: Partial<PeerOptions> = {},
  ) {
    this.peer = new OutboundPeer('jira', trackerVendor('Jira'), { ...DEFAULT_TRACKER_RETRY, ...retry });
    this.base = options.baseUrl.replace(/\/+$/, '');
  }

  async createIssue(input: { project: string; title: string; description: string }): Promise<IssueView> {
    const created = await this.request<{ key: string }>('create an issue', 'POST', '/rest/api/3/issue', {
      fields: { project: { key: input.project }, summary: input.title, issuetype: { name: this.options.issueType ?? 'Task' }, description: adf(input.description) },
    });
    const issue = await this.getIssue(created.key);
    if (!issue) throw new TrackerError('transient', `Jira created ${created.key} but does not show it yet`);
    return issue;
  }

  async getIssue(key: string): Promise<IssueView | undefined> {
    try {
      const body = issueBody.parse(await this.request('read an issue', 'GET', `/rest/api/3/issue/${encodeURIComponent(key)}?fields=status,summary,updated`));
      return this.view(body);
    } catch (error) {
      if (error instanceof TrackerError && error.failure === 'not-found') return undefined;
      throw error;
    }
  }

  async addComment(key: string, body: string): Promise<{ id: string }> {
    const created = await this.request<{ id: string | number }>('comment on an issue', 'POST', `/rest/api/3/issue/${encodeURIComponent(key)}/comment`, { body: adf(body) });
    return { id: String(created.id) };
  }

  async projects(): Promise<TrackerProject[]> {
    const page = await this.request<{ values: Array<{ key: string; name: string }> }>('list projects', 'GET', '/rest/api/3/project/search?maxResults=50');
    return page.values.map((p) => ({ id: p.key, name: `${p.name} (${p.key})` }));
  }

  verifyWebhook(raw: string, headers: Readonly<Record<string, string | string[] | undefined>>, now: number): VerifiedWebhook {
    if (!this.options.webhookSecret) return { ok: false, reason: 'JIRA_WEBHOOK_SECRET is not set' };
    const signed = verifyHexHmac(this.options.webhookSecret, raw, headerOf(headers, 'x-hub-signature'), 'sha256=');
    if (!signed.ok) return signed;
    const deliveryId = headerOf(headers, 'x-atlassian-webhook-identifier');
    if (!deliveryId) return { ok: false, reason: 'X-Atlassian-Webhook-Identifier is missing' };
    let parsed: z.infer<typeof webhook>;
    try {
      parsed = webhook.parse(JSON.parse(raw));
    } catch {
      return { ok: false, reason: 'the body is not a Jira webhook' };
    }
    // The body's timestamp is what the signature covers (the identifier header is not): required, so a
    // captured body cannot be resent for ever, and not from the future beyond clock skew.
    if (parsed.timestamp === undefined) return { ok: false, reason: 'the delivery has no timestamp' };
    if (now - parsed.timestamp > JIRA_WEBHOOK_MAX_AGE_MS) return { ok: false, reason: 'the delivery is more than an hour old' };
    if (parsed.timestamp - now > JIRA_WEBHOOK_MAX_SKEW_MS) return { ok: false, reason: 'the delivery is dated in the future' };
    return { ok: true, deliveryId, events: this.eventsOf(parsed) };
  }

  private eventsOf(payload: z.infer<typeof webhook>): TrackerEvent[] {
    const key = payload.issue?.key;
    if (!key) return [];
    if (payload.comment && payload.webhookEvent === 'comment_created') {
      return [{ issueKey: key, comment: { id: String(payload.comment.id), body: adfText(payload.comment.body), author: payload.comment.author?.displayName ?? 'someone in Jira' } }];
    }
    if (payload.issue?.fields && (payload.webhookEvent === 'jira:issue_updated' || payload.webhookEvent === 'jira:issue_created')) {
      const { key: _key, ...issue } = this.view({ key, fields: payload.issue.fields });
      return [{ issueKey: key, issue: { key, ...issue } }];
    }
    return [];
  }

  private view(body: z.infer<typeof issueBody>): IssueView {
    const { status, summary, updated } = body.fields;
    const changedAt = trackerTime(updated);
    return { tracker: 'jira', key: body.key, title: summary, url: `${this.base}/browse/${body.key}`, state: status.name, category: jiraCategory(status.statusCategory.key), ...(changedAt === undefined ? {} : { changedAt }) };
  }

  private request<T>(what: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const auth = `Basic ${Buffer.from(`${this.options.email}:${this.options.apiToken}`, 'utf8').toString('base64')}`;
    return this.peer.call(
      what,
      async (signal) => {
        const response = await fetch(`${this.base}${path}`, {
          method,
          headers: { accept: 'application/json', authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal,
        });
        const text = await response.text();
        if (!response.ok) throw errorOfStatus('Jira', what, response.status, response.headers.get('retry-after'), text, 'JIRA_EMAIL and JIRA_API_TOKEN');
        return (text ? JSON.parse(text) : {}) as T;
      },
      undefined,
      { idempotent: method === 'GET' },
    );
  }
}

/** Plain text as an ADF document: one paragraph per line. */
export function adf(text: string): Record<string, unknown> {
  const lines = text.split('\n');
  return { type: 'doc', version: 1, content: lines.map((line) => ({ type: 'paragraph', content: line ? [{ type: 'text', text: line }] : [] })) };
}

/** The text of an ADF document (or a plain string, as some webhook payloads carry). */
export function adfText(node: unknown): string {
  if (typeof node === 'string') return node;
  if (!node || typeof node !== 'object') return '';
  const n = node as { type?: string; text?: string; content?: unknown[] };
  if (typeof n.text === 'string') return n.text;
  const inner = (n.content ?? []).map(adfText);
  return n.type === 'doc' ? inner.join('\n') : inner.join('');
}
