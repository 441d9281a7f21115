import { AsyncLocalStorage } from 'node:async_hooks';
import { ErrorCode, LogLevel, WebClient, type Block, type KnownBlock } from '@slack/web-api';
import { TargetError } from '../notify/target.js';

/**
 * The desk's calls to Slack's Web API, through the official WebClient (@slack/web-api), and what
 * each failure means to the delivery queue.
 *
 * The client's own retries are off and rate-limited calls are rejected at once: the event delivery
 * queue owns retries, so a 429 comes back as a `throttled` TargetError carrying Slack's Retry-After
 * (https://api.slack.com/apis/rate-limits: "a HTTP 429 Too Many Requests error, and a Retry-After
 * HTTP header containing the number of seconds until you can retry").
 */

export type SlackBlocks = ReadonlyArray<KnownBlock | Block>;

export interface SlackApiOptions {
  /** The bot token (xoxb-…), SLACK_BOT_TOKEN. Never logged. */
  token: string;
  /** SLACK_API_URL; Slack's own by default. Tests point it at the loopback fake. */
  apiUrl?: string;
  /** Per request, when the caller gives no AbortSignal of its own. */
  timeoutMs?: number;
}

export interface SlackMessage {
  channel: string;
  text: string;
  blocks: SlackBlocks;
}

/** What users.info tells us about a Slack user (https://api.slack.com/methods/users.info). */
export interface SlackUser {
  id: string;
  name: string;
  /** profile.email: only with the users:read.email scope. */
  email: string | undefined;
  /** is_email_confirmed: whether Slack has verified that the user owns the address. */
  emailConfirmed: boolean;
  deleted: boolean;
  isBot: boolean;
}

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

export class SlackApi {
  private readonly client: WebClient;
  /** The AbortSignal of the call in progress, handed to axios by the request interceptor. */
  private readonly signals = new AsyncLocalStorage<AbortSignal>();

  constructor(options: SlackApiOptions) {
    const apiUrl = options.apiUrl ?? DEFAULT_SLACK_API_URL;
    this.client = new WebClient(options.token, {
      slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? 10_000,
      // The client logs request bodies at debug level (redacting the token); ours are ticket data.
      logLevel: LogLevel.ERROR,
      // Method names only: an absolute URL as "method" must never take the bot token elsewhere.
      allowAbsoluteUrls: false,
      // The WebClient takes no AbortSignal per call; the attempt's signal reaches axios here, so a
      // time-out of the delivery worker ends the request and its socket, not just our interest in it.
      requestInterceptor: (config) => {
        const signal = this.signals.getStore();
        if (signal) config.signal = signal;
        return config;
      },
    });
  }

  /** chat.postMessage (https://api.slack.com/methods/chat.postMessage): returns the message's ts. */
  async postMessage(message: SlackMessage & { threadTs?: string }, signal?: AbortSignal): Promise<{ channel: string; ts: string }> {
    const answer = await this.call('chat.postMessage', signal, () =>
      this.client.chat.postMessage({
        channel: message.channel,
        text: message.text,
        blocks: message.blocks as KnownBlock[],
        ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
        // Our links name tickets; Slack's previews of them would only add noise.
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    if (!answer.ts) throw new TargetError('permanent', 'Slack accepted chat.postMessage but returned no message ts');
    return { channel: answer.channel ?? message.channel, ts: answer.ts };
  }

  /** chat.update (https://api.slack.com/methods/chat.update): the message's blocks replaced in place. */
  async update(message: SlackMessage & { ts: string }, signal?: AbortSignal): Promise<void> {
    await this.call('chat.update', signal, () =>
      this.client.chat.update({ channel: message.channel, ts: message.ts, text: message.text, blocks: message.blocks as KnownBlock[] }),
    );
  }

  /** users.info (https://api.slack.com/methods/users.info). */
  async userInfo(userId: string, signal?: AbortSignal): Promise<SlackUser> {
    const answer = await this.call('users.info', signal, () => this.client.users.info({ user: userId }));
    const user = answer.user;
    if (!user?.id) throw new TargetError('permanent', `Slack returned no user for ${userId}`);
    return {
      id: user.id,
      name: user.real_name || user.profile?.real_name || user.name || user.id,
      email: user.profile?.email || undefined,
      emailConfirmed: user.is_email_confirmed === true,
      deleted: user.deleted === true,
      isBot: user.is_bot === true,
    };
  }

  /** auth.test (https://api.slack.com/methods/auth.test): whether the token works, and for which workspace. */
  async authTest(signal?: AbortSignal): Promise<{ team: string; user: string }> {
    const answer = await this.call('auth.test', signal, () => this.client.auth.test());
    return { team: answer.team ?? '', user: answer.user ?? '' };
  }

  private async call<T>(method: string, signal: AbortSignal | undefined, request: () => Promise<T>): Promise<T> {
    try {
      return await (signal ? this.signals.run(signal, request) : request());
    } catch (error) {
      throw slackFailure(error, method, signal);
    }
  }
}

/**
 * Slack's errors as the delivery queue reads them. Slack answers most failures with HTTP 200 and
 * `{"ok": false, "error": "<code>"}` (https://api.slack.com/web#responses): those are permanent
 * (sending the same again gets the same answer) except the few Slack itself calls temporary.
 */
export function slackFailure(error: unknown, method: string, signal?: AbortSignal): TargetError {
  if (error instanceof TargetError) return error;
  if (signal?.aborted) return new TargetError('transient', `Slack ${method} did not answer in time`, {}, { cause: error });
  const coded = error as { code?: unknown; data?: { error?: unknown }; retryAfter?: unknown; statusCode?: unknown; original?: unknown };
  switch (coded.code) {
    case ErrorCode.RateLimitedError: {
      const seconds = typeof coded.retryAfter === 'number' && coded.retryAfter >= 0 ? coded.retryAfter : 1;
      return new TargetError('throttled', `Slack asked us to slow down on ${method} (Retry-After ${seconds} s)`, { status: 429, retryAfterMs: seconds * 1000 });
    }
    case ErrorCode.PlatformError: {
      const code = typeof coded.data?.error === 'string' ? coded.data.error : 'unknown_error';
      const kind = TEMPORARY_CODES.has(code) ? 'transient' : 'permanent';
      return new TargetError(kind, `Slack refused ${method}: ${code}${PLAIN_WORDS[code] ? ` (${PLAIN_WORDS[code]})` : ''}`, { status: 200 });
    }
    case ErrorCode.HTTPError: {
      const status = typeof coded.statusCode === 'number' ? coded.statusCode : 0;
      const kind = status >= 500 || status === 408 ? 'transient' : 'permanent';
      return new TargetError(kind, `Slack answered ${method} with HTTP ${status}`, { status });
    }
    case ErrorCode.RequestError:
      // Connection refused or reset, DNS, TLS, the client's own timeout: nothing says Slack acted.
      return new TargetError('transient', `could not reach Slack for ${method}: ${messageOf(coded.original) ?? 'request failed'}`, {}, { cause: error });
    default:
      return new TargetError('transient', `Slack ${method} failed: ${messageOf(error) ?? 'unknown error'}`, {}, { cause: error });
  }
}

/** Codes Slack documents as passing (https://api.slack.com/methods/chat.postMessage#errors). */
const TEMPORARY_CODES = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

/** What an admin should do about the codes they will meet, in plain words. */
const PLAIN_WORDS: Record<string, string> = {
  invalid_auth: 'the bot token is not valid; check SLACK_BOT_TOKEN',
  not_authed: 'no bot token was sent; set SLACK_BOT_TOKEN',
  account_inactive: 'the bot token belongs to a deleted user or a workspace that is gone',
  token_revoked: 'the bot token was revoked; reinstall the Slack app',
  channel_not_found: 'no such channel, or the bot cannot see it; check the channel id and invite the bot',
  not_in_channel: 'the bot is not a member of the channel; invite it with /invite',
  is_archived: 'the channel is archived',
  missing_scope: 'the Slack app lacks a permission it needs (chat:write, users:read, users:read.email)',
  message_not_found: 'the message to update no longer exists',
  cant_update_message: 'the message was not posted by this app',
  user_not_found: 'no such Slack user',
  invalid_blocks: 'Slack did not accept the message layout',
};

const messageOf = (error: unknown): string | undefined => (error instanceof Error ? error.message : undefined);
