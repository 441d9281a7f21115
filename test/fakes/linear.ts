import { randomUUID } from 'node:crypto';
import { hexHmac, JsonFake, postWebhook } from './trackers-common.js';

/**
 * Linear's GraphQL API on loopback (https://linear.app/developers/graphql): `POST /graphql` with
 * `{ query, variables }`, the API key in `Authorization` as it is, answered by operation name the way
 * the desk asks (Issue, IssueId, IssueCreate, CommentCreate, Teams); a wrong key gets Linear's 400
 * AUTHENTICATION_ERROR shape, an unknown issue an ENTITY_NOT_FOUND GraphQL error. It also sends the
 * webhooks Linear would (https://linear.app/developers/webhooks): `Linear-Signature` hex HMAC-SHA256 of
 * the body, `Linear-Delivery`, `Linear-Event`, and `webhookTimestamp` in the body.
 */

export interface FakeLinearIssue {
  id: string;
  identifier: string;
  title: string;
  description: string;
  url: string;
  teamId: string;
  state: { name: string; type: string };
  /** ISO 8601, as Linear gives it; every change moves it on. */
  updatedAt: string;
}

export const LINEAR_STATES = {
  todo: { name: 'Todo', type: 'unstarted' },
  inProgress: { name: 'In Progress', type: 'started' },
  done: { name: 'Done', type: 'completed' },
  canceled: { name: 'Canceled', type: 'canceled' },
} as const;

export class FakeLinear extends JsonFake {
  readonly apiKey = 'lin_api_test_key';
  readonly webhookSecret = 'lin_wh_test_secret';
  readonly teams = [{ id: 'team-uuid-eng', key: 'ENG', name: 'Engineering' }];
  readonly issues = new Map<string, FakeLinearIssue>();
  readonly comments: Array<{ id: string; issueId: string; body: string }> = [];
  private counter = 100;
  private lastChange = 0;

  /** A change time later than every one before it (two changes in one millisecond still order). */
  private changeTime(): string {
    this.lastChange = Math.max(Date.now(), this.lastChange + 1);
    return new Date(this.lastChange).toISOString();
  }

  get apiUrl(): string {
    return `${this.baseUrl}/graphql`;
  }

  addIssue(title: string, state: { name: string; type: string } = LINEAR_STATES.todo): FakeLinearIssue {
    const identifier = `ENG-${++this.counter}`;
    const issue = { id: randomUUID(), identifier, title, description: '', url: `https://linear.app/acme/issue/${identifier}/${title.toLowerCase().replace(/\W+/g, '-')}`, teamId: this.teams[0]!.id, state, updatedAt: this.changeTime() };
    this.issues.set(identifier, issue);
    return issue;
  }

  /** Moves an issue to another state (as someone in Linear would), without a webhook. */
  setState(identifier: string, state: { name: string; type: string }): void {
    const issue = this.issues.get(identifier)!;
    issue.state = state;
    issue.updatedAt = this.changeTime();
  }

  /** The webhook body Linear sends for an issue update (its data as the issue is now). */
  issueUpdatedPayload(identifier: string, webhookTimestamp = Date.now()): string {
    const issue = this.issues.get(identifier)!;
    return JSON.stringify({
      action: 'update',
      type: 'Issue',
      createdAt: new Date().toISOString(),
      data: { id: issue.id, identifier: issue.identifier, title: issue.title, state: { id: randomUUID(), ...issue.state }, teamId: issue.teamId, updatedAt: issue.updatedAt },
      updatedFrom: { stateId: randomUUID() },
      url: issue.url,
      webhookTimestamp,
      organizationId: 'org-1',
    });
  }

  /** Someone comments in Linear: the comment is kept, and the body of its webhook returned. */
  commentPayload(identifier: string, body: string, author: string, webhookTimestamp = Date.now()): string {
    const issue = this.issues.get(identifier)!;
    const comment = { id: randomUUID(), issueId: issue.id, body };
    this.comments.push(comment);
    return this.commentWebhook(comment, author, webhookTimestamp);
  }

  /** The webhook of a comment already kept (e.g. one the desk posted). */
  commentWebhook(comment: { id: string; issueId: string; body: string }, author: string, webhookTimestamp = Date.now()): string {
    const issue = [...this.issues.values()].find((i) => i.id === comment.issueId)!;
    return JSON.stringify({
      action: 'create',
      type: 'Comment',
      createdAt: new Date().toISOString(),
      data: { id: comment.id, body: comment.body, issueId: issue.id, issue: { id: issue.id, title: issue.title }, user: { id: randomUUID(), name: author } },
      url: `${issue.url}#comment-${comment.id.slice(0, 8)}`,
      webhookTimestamp,
      organizationId: 'org-1',
    });
  }

  /** Delivers a webhook body signed with `secret` (the right one unless given). */
  send(url: string, raw: string, options: { secret?: string; delivery?: string; signature?: string | null } = {}): Promise<{ status: number; body: unknown }> {
    const signature = options.signature === undefined ? hexHmac(options.secret ?? this.webhookSecret, raw) : options.signature;
    return postWebhook(url, raw, { 'linear-delivery': options.delivery ?? randomUUID(), 'linear-event': (JSON.parse(raw) as { type: string }).type, ...(signature === null ? {} : { 'linear-signature': signature }) });
  }

  protected handle(method: string, url: URL, body: unknown, authorization: string | undefined) {
    if (method !== 'POST' || url.pathname !== '/graphql') return { status: 404, body: { errors: [{ message: 'Not found' }] }, authorized: false };
    if (authorization !== this.apiKey) {
      return { status: 400, body: { errors: [{ message: 'Authentication required, not authenticated', extensions: { code: 'AUTHENTICATION_ERROR' } }] }, authorized: false };
    }
    const { query, variables = {} } = body as { query: string; variables?: Record<string, any> };
    const operation = /^\s*(?:query|mutation)\s+(\w+)/.exec(query)?.[1];
    const notFound = { status: 200, body: { data: null, errors: [{ message: 'Entity not found: Issue', extensions: { code: 'ENTITY_NOT_FOUND' } }] }, authorized: true };
    const find = (id: string) => this.issues.get(id) ?? [...this.issues.values()].find((i) => i.id === id);
    const node = (i: FakeLinearIssue) => ({ identifier: i.identifier, title: i.title, url: i.url, updatedAt: i.updatedAt, state: { name: i.state.name, type: i.state.type } });
    switch (operation) {
      case 'Issue': {
        const issue = find(variables.id);
        return issue ? { status: 200, body: { data: { issue: node(issue) } }, authorized: true } : notFound;
      }
      case 'IssueId': {
        const issue = find(variables.id);
        return issue ? { status: 200, body: { data: { issue: { id: issue.id } } }, authorized: true } : notFound;
      }
      case 'IssueCreate': {
        const input = variables.input as { teamId: string; title: string; description?: string };
        if (!this.teams.some((t) => t.id === input.teamId)) return { status: 200, body: { data: null, errors: [{ message: 'Argument Validation Error', extensions: { code: 'INVALID_INPUT' } }] }, authorized: true };
        const issue = this.addIssue(input.title);
        issue.description = input.description ?? '';
        return { status: 200, body: { data: { issueCreate: { success: true, issue: node(issue) } } }, authorized: true };
      }
      case 'CommentCreate': {
        const input = variables.input as { issueId: string; body: string };
        if (!find(input.issueId)) return notFound;
        const comment = { id: randomUUID(), issueId: find(input.issueId)!.id, body: input.body };
        this.comments.push(comment);
        return { status: 200, body: { data: { commentCreate: { success: true, comment: { id: comment.id } } } }, authorized: true };
      }
      case 'Teams':
        return { status: 200, body: { data: { teams: { nodes: this.teams } } }, authorized: true };
      default:
        return { status: 400, body: { errors: [{ message: `Unknown operation ${operation}`, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }, authorized: true };
    }
  }
}
