import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackSignature } from '../../src/integrations/slack/signature.js';
import type { FlakyPeer } from './flaky.js';

/**
 * Slack's Web API on loopback, as the official WebClient calls it: POST https://<base>/<method> with a
 * form body (objects such as `blocks` JSON-encoded inside it) or a JSON body, and the token as
 * `Authorization: Bearer`. Answers like Slack does (https://api.slack.com/web#responses): HTTP 200 with
 * `{ ok: false, error }` for refusals (invalid_auth, channel_not_found, message_not_found,
 * user_not_found), HTTP 429 with Retry-After past one chat.postMessage per second per channel
 * (https://api.slack.com/apis/rate-limits#posting-messages). Records every message and its updates.
 * With `flaky` set, a share of authorised calls fail at random (429 with Retry-After, 503, no answer)
 * before Slack acts on them.
 */

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: any[];
  threadTs: string | undefined;
  /** Every chat.update of it, oldest first (text and blocks are the latest). */
  updates: Array<{ text: string; blocks: any[] }>;
}

export interface FakeSlackUser {
  id: string;
  name: string;
  email?: string;
  emailConfirmed?: boolean;
}

export interface FakeSlackCall {
  method: string;
  /** When it was answered. */
  at: number;
  /** `<method> <channel> <ts or thread_ts>` once the body was read: what a retry of the same call repeats. */
  key?: string;
  status: number;
  error?: string;
  contentType: string;
}

export class FakeSlack {
  readonly calls: FakeSlackCall[] = [];
  readonly messages: FakeSlackMessage[] = [];
  readonly channels = new Set<string>();
  readonly users = new Map<string, FakeSlackUser>();
  /** Messages the desk sent to interaction response_urls (https://api.slack.com/interactivity/handling#message_responses). */
  readonly responses: Array<{ path: string; body: any }> = [];
  /** Answers for the next matching calls instead of the real one (a 5xx, a 429 with Retry-After). */
  readonly faults: Array<{ method: string; status: number; retryAfter?: number; times: number }> = [];
  /** Random faults (seeded), keyed like `FakeSlackCall.key`. */
  flaky: FlakyPeer | undefined;
  /** Slack's clock: the rate limit and the message ts read it. Tests may pin it. */
  now: () => number = Date.now;
  private lastPost = new Map<string, number>();
  private sequence = 0;
  private server: Server;
  private base = '';

  constructor(readonly token = 'xoxb-test-token-do-not-log', channels: string[] = ['C0DESK0001']) {
    for (const channel of channels) this.channels.add(channel);
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Where this fake's response_urls live (what the endpoint's responseUrlBase is set to in tests). */
  get hooksBase(): string {
    return this.base.replace(/api\/$/, 'hooks/');
  }

  /** What SLACK_API_URL would be set to. */
  get apiUrl(): string {
    return this.base;
  }

  addUser(user: FakeSlackUser): FakeSlackUser {
    this.users.set(user.id, user);
    return user;
  }

  /** The top-level messages of a channel (thread replies are `repliesTo`). */
  posts(channel?: string): FakeSlackMessage[] {
    return this.messages.filter((m) => m.threadTs === undefined && (!channel || m.channel === channel));
  }

  repliesTo(ts: string): FakeSlackMessage[] {
    return this.messages.filter((m) => m.threadTs === ts);
  }

  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if ((req.url ?? '').startsWith('/hooks/')) {
      this.responses.push({ path: req.url!, body: JSON.parse(raw || 'null') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    let key: string | undefined;
    const answer = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      this.calls.push({ method, at: Date.now(), status, contentType, ...(key ? { key } : {}), ...(body.ok === false ? { error: String(body.error) } : {}) });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST') return answer(405, { ok: false, error: 'method_not_supported_for_channel_type' });

    const fault = this.faults.find((f) => f.method === method && f.times > 0);
    if (fault) {
      fault.times--;
      if (fault.status === 429) return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter ?? 1) });
      return answer(fault.status, { ok: false, error: 'internal_error' });
    }

    let args: Record<string, unknown>;
    try {
      args = contentType === 'application/json' ? (JSON.parse(raw || '{}') as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(raw));
    } catch {
      return answer(200, { ok: false, error: 'invalid_json' });
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? (typeof args.token === 'string' ? args.token : undefined);
    if (!bearer) return answer(200, { ok: false, error: 'not_authed' });
    if (bearer !== this.token) return answer(200, { ok: false, error: 'invalid_auth' });

    key = `${method} ${String(args.channel ?? '')} ${String(args.ts ?? args.thread_ts ?? '')}`;
    const random = this.flaky?.next(key);
    if (random?.kind === 'hang') return; // never answered and never acted on: the client's timeout must fire
    if (random?.kind === 429) return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(random.retryAfterSeconds) });
    if (random) return answer(503, { ok: false, error: 'service_unavailable' });

    switch (method) {
      case 'auth.test':
        return answer(200, { ok: true, url: 'https://contoso.slack.com/', team: 'Contoso', user: 'desk', team_id: 'T0CONTOSO', user_id: 'U0DESKBOT' });
      case 'chat.postMessage': {
        const channel = String(args.channel ?? '');
        if (!this.channels.has(channel)) return answer(200, { ok: false, error: 'channel_not_found' });
        const blocks = readBlocks(args.blocks);
        if (blocks === undefined) return answer(200, { ok: false, error: 'invalid_blocks' });
        if (!args.text && blocks.length === 0) return answer(200, { ok: false, error: 'no_text' });
        const now = this.now();
        const last = this.lastPost.get(channel);
        if (last !== undefined && now - last < 1_000) return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' });
        this.lastPost.set(channel, now);
        const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
        if (threadTs && !this.messages.some((m) => m.channel === channel && m.ts === threadTs)) return answer(200, { ok: false, error: 'thread_not_found' });
        const ts = `${Math.floor(now / 1000)}.${String(++this.sequence).padStart(6, '0')}`;
        const message: FakeSlackMessage = { channel, ts, text: String(args.text ?? ''), blocks, threadTs, updates: [] };
        this.messages.push(message);
        return answer(200, { ok: true, channel, ts, message: { text: message.text, blocks } });
      }
      case 'chat.update': {
        const channel = String(args.channel ?? '');
        if (!this.channels.has(channel)) return answer(200, { ok: false, error: 'channel_not_found' });
        const message = this.messages.find((m) => m.channel === channel && m.ts === args.ts);
        if (!message) return answer(200, { ok: false, error: 'message_not_found' });
        const blocks = readBlocks(args.blocks);
        if (blocks === undefined) return answer(200, { ok: false, error: 'invalid_blocks' });
        message.text = String(args.text ?? '');
        message.blocks = blocks;
        message.updates.push({ text: message.text, blocks });
        return answer(200, { ok: true, channel, ts: message.ts, text: message.text });
      }
      case 'users.info': {
        const user = this.users.get(String(args.user ?? ''));
        if (!user) return answer(200, { ok: false, error: 'user_not_found' });
        return answer(200, {
          ok: true,
          user: {
            id: user.id,
            name: user.name.toLowerCase().replace(/\s+/g, '.'),
            real_name: user.name,
            deleted: false,
            is_bot: false,
            is_email_confirmed: user.emailConfirmed ?? true,
            // profile.email needs the users:read.email scope, which the desk's app asks for.
            profile: { real_name: user.name, ...(user.email ? { email: user.email } : {}) },
          },
        });
      }
      default:
        return answer(200, { ok: false, error: 'unknown_method' });
    }
  }

  /** The message a test deleted by hand, to see the desk post again. */
  deleteMessage(ts: string): void {
    const index = this.messages.findIndex((m) => m.ts === ts);
    if (index >= 0) this.messages.splice(index, 1);
  }
}

/** Blocks as the WebClient sends them: a JSON string inside a form, or an array in a JSON body. */
function readBlocks(value: unknown): any[] | undefined {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A request as Slack sends it to the desk: a form body (interactivity: `payload=<JSON>`; slash
 * commands: their fields), signed with the app's signing secret at `now` (epoch ms).
 */
export function slackRequest(signingSecret: string, fields: Record<string, string>, now: number): { body: string; headers: Record<string, string> } {
  const body = new URLSearchParams(fields).toString();
  const timestamp = String(Math.floor(now / 1000));
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(signingSecret, timestamp, body),
    },
  };
}

/** A block_actions payload for a button press (https://api.slack.com/reference/interaction-payloads/block-actions). */
export function buttonPress(user: { id: string }, message: FakeSlackMessage, button: { action_id: string; value: string }, responseUrl = 'https://hooks.slack.com/actions/T0CONTOSO/1/abc'): Record<string, string> {
  return {
    payload: JSON.stringify({
      type: 'block_actions',
      team: { id: 'T0CONTOSO', domain: 'contoso' },
      user: { id: user.id, username: 'someone', team_id: 'T0CONTOSO' },
      api_app_id: 'A0DESKAPP',
      trigger_id: '1234567890.1234567890.abcdef',
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
      channel: { id: message.channel, name: 'desk' },
      message: { ts: message.ts, text: message.text, blocks: message.blocks },
      response_url: responseUrl,
      actions: [{ type: 'button', block_id: 'desk', action_id: button.action_id, value: button.value, text: { type: 'plain_text', text: 'x' }, action_ts: '1700000000.000001' }],
    }),
  };
}

/** The fields of a slash command (https://api.slack.com/interactivity/slash-commands#app_command_handling). */
export function slashCommand(user: { id: string }, text: string, channel = 'C0DESK0001'): Record<string, string> {
  return {
    token: 'deprecated-verification-token',
    team_id: 'T0CONTOSO',
    team_domain: 'contoso',
    channel_id: channel,
    channel_name: 'desk',
    user_id: user.id,
    user_name: 'someone',
    command: '/ticket',
    text,
    api_app_id: 'A0DESKAPP',
    response_url: 'https://hooks.slack.com/commands/T0CONTOSO/1/abc',
    trigger_id: '1234567890.1234567890.abcdef',
  };
}

/** The buttons of a recorded message, by action id. */
export function buttonsOf(message: FakeSlackMessage): Array<{ action_id: string; value: string; text: { text: string }; url?: string }> {
  return message.blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements);
}
