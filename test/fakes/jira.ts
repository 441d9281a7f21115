import { randomUUID } from 'node:crypto';
import { hexHmac, JsonFake, postWebhook } from './trackers-common.js';

/**
 * Jira Cloud's REST API v3 on loopback, the part the desk uses
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/): basic auth of email and API token
 * (401 otherwise), POST /rest/api/3/issue (description in ADF, 400 with `errors` when it is not),
 * GET /rest/api/3/issue/{key}?fields=…, POST /rest/api/3/issue/{key}/comment (ADF body),
 * GET /rest/api/3/project/search. Its admin webhooks are signed with `X-Hub-Signature: sha256=<hex>`
 * and identified by `X-Atlassian-Webhook-Identifier`.
 */

export const JIRA_STATUSES = {
  todo: { name: 'To Do', statusCategory: { key: 'new' } },
  inProgress: { name: 'In Progress', statusCategory: { key: 'indeterminate' } },
  done: { name: 'Done', statusCategory: { key: 'done' } },
} as const;

type Status = { name: string; statusCategory: { key: string } };

export interface FakeJiraIssue {
  id: string;
  key: string;
  summary: string;
  description: unknown;
  status: Status;
  /** Jira's format (2026-11-23T10:00:00.000+0000); every change moves it on. */
  updated: string;
}

export class FakeJira extends JsonFake {
  readonly email = 'desk-bot@contoso.example';
  readonly apiToken = 'jira-api-token';
  readonly webhookSecret = 'jira-webhook-secret';
  readonly projects = [{ id: '10000', key: 'OPS', name: 'Operations' }];
  readonly issues = new Map<string, FakeJiraIssue>();
  readonly comments: Array<{ id: string; key: string; body: unknown }> = [];
  private counter = 0;
  private commentIds = 10000;
  private lastChange = 0;

  /** A change time later than every one before it, written as Jira writes `fields.updated`. */
  private changeTime(): string {
    this.lastChange = Math.max(Date.now(), this.lastChange + 1);
    return new Date(this.lastChange).toISOString().replace('Z', '+0000');
  }

  addIssue(summary: string, status: Status = JIRA_STATUSES.todo): FakeJiraIssue {
    const key = `OPS-${++this.counter}`;
    const issue = { id: String(10000 + this.counter), key, summary, description: null, status, updated: this.changeTime() };
    this.issues.set(key, issue);
    return issue;
  }

  setStatus(key: string, status: Status): void {
    const issue = this.issues.get(key)!;
    issue.status = status;
    issue.updated = this.changeTime();
  }

  issueUpdatedPayload(key: string, timestamp = Date.now()): string {
    const issue = this.issues.get(key)!;
    return JSON.stringify({ timestamp, webhookEvent: 'jira:issue_updated', issue_event_type_name: 'issue_generic', issue: { id: issue.id, key, fields: { summary: issue.summary, status: issue.status, updated: issue.updated } } });
  }

  commentPayload(key: string, text: string, author: string, timestamp = Date.now()): string {
    const issue = this.issues.get(key)!;
    const comment = { id: String(++this.commentIds), key, body: text };
    this.comments.push(comment);
    return JSON.stringify({ timestamp, webhookEvent: 'comment_created', comment: { id: comment.id, body: text, author: { displayName: author } }, issue: { id: issue.id, key, fields: { summary: issue.summary, status: issue.status, updated: issue.updated } } });
  }

  send(url: string, raw: string, options: { secret?: string; identifier?: string; signature?: string | null } = {}): Promise<{ status: number; body: unknown }> {
    const signature = options.signature === undefined ? `sha256=${hexHmac(options.secret ?? this.webhookSecret, raw)}` : options.signature;
    return postWebhook(url, raw, { 'x-atlassian-webhook-identifier': options.identifier ?? randomUUID(), 'x-atlassian-webhook-flow': 'Primary', ...(signature === null ? {} : { 'x-hub-signature': signature }) });
  }

  protected handle(method: string, url: URL, body: unknown, authorization: string | undefined) {
    const expected = `Basic ${Buffer.from(`${this.email}:${this.apiToken}`).toString('base64')}`;
    if (authorization !== expected) return { status: 401, body: { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'] }, authorized: false };
    const ok = (status: number, b: unknown) => ({ status, body: b, authorized: true });
    const path = url.pathname;
    if (method === 'GET' && path === '/rest/api/3/project/search') return ok(200, { isLast: true, values: this.projects });
    if (method === 'POST' && path === '/rest/api/3/issue') {
      const fields = (body as { fields?: any })?.fields ?? {};
      if (!this.projects.some((p) => p.key === fields.project?.key)) return ok(400, { errorMessages: [], errors: { project: 'valid project is required' } });
      if (typeof fields.summary !== 'string' || !fields.summary) return ok(400, { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } });
      if (fields.description !== undefined && (fields.description?.type !== 'doc' || fields.description?.version !== 1)) return ok(400, { errorMessages: [], errors: { description: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' } });
      const issue = this.addIssue(fields.summary);
      issue.description = fields.description;
      return ok(201, { id: issue.id, key: issue.key, self: `${this.baseUrl}/rest/api/3/issue/${issue.id}` });
    }
    const issuePath = /^\/rest\/api\/3\/issue\/([A-Z][A-Z0-9]*-\d+)(\/comment)?$/.exec(path);
    const issue = issuePath ? this.issues.get(issuePath[1]!) : undefined;
    if (issuePath && !issue) return ok(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });
    if (issue && method === 'GET' && !issuePath![2]) return ok(200, { id: issue.id, key: issue.key, fields: { summary: issue.summary, status: issue.status, updated: issue.updated } });
    if (issue && method === 'POST' && issuePath![2]) {
      const adf = (body as { body?: any })?.body;
      if (adf?.type !== 'doc') return ok(400, { errorMessages: ['Comment body must be an Atlassian Document'], errors: {} });
      const comment = { id: String(++this.commentIds), key: issue.key, body: adf };
      this.comments.push(comment);
      return ok(201, { id: comment.id, body: adf, author: { displayName: 'Desk Bot' } });
    }
    return ok(404, { errorMessages: ['Not found'] });
  }
}
