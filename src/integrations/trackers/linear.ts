import { z } from 'zod';
import { linearCategory, linearTimestampCheck, parseIssueRef, trackerTime, verifyHexHmac, type IssueView } from '../../domain/issue-trackers.js';
import { OutboundPeer, type PeerOptions } from '../outbound/peer.js';
import { DEFAULT_TRACKER_RETRY, errorOfStatus, headerOf, TrackerError, trackerVendor, type Tracker, type TrackerEvent, type TrackerProject, type VerifiedWebhook } from './port.js';

/**
 * Linear through its GraphQL API (https://linear.app/developers/graphql): one endpoint, POST
 * `{ query, variables }`, a personal API key in `Authorization` as it is (OAuth tokens would take
 * "Bearer "). `issue(id:)` takes an issue's identifier (ENG-123) as well as its UUID. Plain fetch
 * rather than @linear/sdk: four operations, and the peer's timeouts and retries apply to each.
 *
 * Webhooks (https://linear.app/developers/webhooks): `Linear-Signature` is the hex HMAC-SHA256 of the
 * raw body with the webhook's signing secret; `webhookTimestamp` (epoch ms, in the body) must be within
 * a minute of now; `Linear-Delivery` names the delivery. That header is not signed, so the replay check
 * (IssueLinks.receive) also keys on the body's SHA-256.
 */

export interface LinearOptions {
  apiKey: string;
  apiUrl: string;
  webhookSecret: string | undefined;
}

// `updatedAt` orders what the desk hears of an issue (https://studio.apollographql.com/public/Linear-API/variant/current/schema/reference/objects/Issue).
const STATE_FIELDS = 'identifier title url updatedAt state { name type }';

const issueNode = z.object({ identifier: z.string(), title: z.string(), url: z.string(), updatedAt: z.string().optional(), state: z.object({ name: z.string(), type: z.string() }) });
type IssueNode = z.infer<typeof issueNode>;

const webhook = z.object({
  type: z.string(),
  action: z.string(),
  url: z.string().optional(),
  webhookTimestamp: z.number().optional(),
  data: z.record(z.string(), z.unknown()),
});
const issueData = z.object({ identifier: z.string(), title: z.string(), url: z.string().optional(), updatedAt: z.string().optional(), state: z.object({ name: z.string(), type: z.string() }).optional() });
const commentData = z.object({ id: z.string(), body: z.string(), issue: z.object({ identifier: z.string().optional() }).partial().optional(), user: z.object({ name: z.string() }).partial().optional() });

export class LinearTracker implements Tracker {
  readonly name = 'linear' as const;
  private readonly peer: OutboundPeer<TrackerError>;

  constructor(
    private readonly options: LinearOptions,
    retry: Partial<PeerOptions> = {},
  ) {
    this.peer = new OutboundPeer('linear', trackerVendor('Linear'), { ...DEFAULT_TRACKER_RETRY, ...retry });
  }

  async createIssue(input: { project: string; title: string; description: string }): Promise<IssueView> {
    const data = await this.graphql<{ issueCreate: { success: boolean; issue: IssueNode | null } }>(
      'create an issue',
      `mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { ${STATE_FIELDS} } } }`,
      { input: { teamId: input.project, title: input.title, description: input.description } },
      false,
    );
    if (!data.issueCreate.success || !data.issueCreate.issue) throw new TrackerError('invalid', 'Linear did not create the issue');
    return view(issueNode.parse(data.issueCreate.issue));
  }

  async getIssue(key: string): Promise<IssueView | undefined> {
    try {
      const data = await this.graphql<{ issue: IssueNode | null }>('read an issue', `query Issue($id: String!) { issue(id: $id) { ${STATE_FIELDS} } }`, { id: key });
      return data.issue ? view(issueNode.parse(data.issue)) : undefined;
    } catch (error) {
      if (error instanceof TrackerError && error.failure === 'not-found') return undefined;
      throw error;
    }
  }

  async addComment(key: string, body: string): Promise<{ id: string }> {
    const found = await this.graphql<{ issue: { id: string } | null }>('find an issue', 'query IssueId($id: String!) { issue(id: $id) { id } }', { id: key });
    if (!found.issue) throw new TrackerError('not-found', `Linear has no issue ${key}`);
    const data = await this.graphql<{ commentCreate: { success: boolean; comment: { id: string } | null } }>(
      'comment on an issue',
      'mutation CommentCreate($input: CommentCreateInput!) { commentCreate(input: $input) { success comment { id } } }',
      { input: { issueId: found.issue.id, body } },
      false,
    );
    if (!data.commentCreate.comment) throw new TrackerError('invalid', 'Linear did not add the comment');
    return { id: data.commentCreate.comment.id };
  }

  async projects(): Promise<TrackerProject[]> {
    const data = await this.graphql<{ teams: { nodes: Array<{ id: string; key: string; name: string }> } }>('list teams', 'query Teams { teams(first: 50) { nodes { id key name } } }', {});
    return data.teams.nodes.map((t) => ({ id: t.id, name: `${t.name} (${t.key})` }));
  }

  verifyWebhook(raw: string, headers: Readonly<Record<string, string | string[] | undefined>>, now: number): VerifiedWebhook {
    if (!this.options.webhookSecret) return { ok: false, reason: 'LINEAR_WEBHOOK_SECRET is not set' };
    const signed = verifyHexHmac(this.options.webhookSecret, raw, headerOf(headers, 'linear-signature'));
    if (!signed.ok) return signed;
    let parsed: z.infer<typeof webhook>;
    try {
      parsed = webhook.parse(JSON.parse(raw));
    } catch {
      return { ok: false, reason: 'the body is not a Linear webhook' };
    }
    const fresh = linearTimestampCheck(parsed.webhookTimestamp, now);
    if (!fresh.ok) return fresh;
    const deliveryId = headerOf(headers, 'linear-delivery') ?? `${parsed.type}:${parsed.action}:${parsed.webhookTimestamp}:${String(parsed.data.id ?? '')}`;
    return { ok: true, deliveryId, events: eventsOf(parsed) };
  }

  private async graphql<T>(what: string, query: string, variables: Record<string, unknown>, idempotent = true): Promise<T> {
    return this.peer.call(
      what,
      async (signal) => {
        const response = await fetch(this.options.apiUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: this.options.apiKey },
          body: JSON.stringify({ query, variables }),
          signal,
        });
        const text = await response.text();
        // Linear answers a bad or revoked key with 400 and the code AUTHENTICATION_ERROR, not 401.
        const status = response.status === 400 && text.includes('AUTHENTICATION_ERROR') ? 401 : response.status;
        if (!response.ok) throw errorOfStatus('Linear', what, status, response.headers.get('retry-after'), text, 'LINEAR_API_KEY');
        const body = JSON.parse(text) as { data?: T; errors?: Array<{ message?: string; extensions?: { code?: string } }> };
        if (body.errors?.length) {
          const first = body.errors[0]!;
          // GraphQL errors come with 200; Linear names a missing entity and a rate limit in extensions.code.
          const code = first.extensions?.code ?? '';
          if (code === 'RATELIMITED') throw new TrackerError('throttled', `Linear rate-limited ${what}`, { status: 429 });
          if (code === 'ENTITY_NOT_FOUND' || /not found/i.test(first.message ?? '')) throw new TrackerError('not-found', `Linear could not ${what}: ${first.message ?? code}`, { status: 404 });
          throw new TrackerError('invalid', `Linear could not ${what}: ${first.message ?? code}`, { status: 400 });
        }
        if (!body.data) throw new TrackerError('transient', `Linear answered no data to ${what}`);
        return body.data;
      },
      undefined,
      { idempotent },
    );
  }
}

const view = (node: IssueNode): IssueView => ({ tracker: 'linear', key: node.identifier, title: node.title, url: node.url, state: node.state.name, category: linearCategory(node.state.type), ...changedAt(node.updatedAt) });

const changedAt = (updatedAt: string | undefined): { changedAt?: number } => {
  const ms = trackerTime(updatedAt);
  return ms === undefined ? {} : { changedAt: ms };
};

function eventsOf(payload: z.infer<typeof webhook>): TrackerEvent[] {
  if (payload.type === 'Issue' && payload.action !== 'remove') {
    const data = issueData.safeParse(payload.data);
    if (!data.success || !data.data.state) return [];
    const { identifier, title, state } = data.data;
    return [{ issueKey: identifier, issue: { key: identifier, title, url: data.data.url ?? payload.url ?? '', state: state.name, category: linearCategory(state.type), ...changedAt(data.data.updatedAt) } }];
  }
  if (payload.type === 'Comment' && payload.action === 'create') {
    const data = commentData.safeParse(payload.data);
    if (!data.success) return [];
    // The comment's issue by its identifier, or from the comment's URL (…/issue/ENG-123/…#comment-…).
    const key = data.data.issue?.identifier ?? (payload.url ? parseIssueRef(payload.url.split('#')[0]!)?.key : undefined);
    if (!key) return [];
    return [{ issueKey: key, comment: { id: data.data.id, body: data.data.body, author: data.data.user?.name ?? 'someone in Linear' } }];
  }
  return [];
}
