import { z } from 'zod';
import { readButton } from '../integrations/slack/actions.js';
import { verifySlackSignature, type Headers } from '../integrations/slack/signature.js';
import { parseSlashCommand, SLASH_USAGE } from '../integrations/slack/slash-command.js';
import type { Logger } from '../logger.js';
import type { SlackInteractions } from '../services/slack-interactions.js';
import type { SlackIdentity } from '../services/slack-people.js';

/**
 * Slack's two request URLs, framework-free: interactivity (button presses) and slash commands. Both
 * arrive as application/x-www-form-urlencoded, signed with the app's signing secret; the route hands
 * over the raw body as received, since the signature covers those exact bytes.
 *
 * Order: the signature first (401 with the reason), then the form (400 naming the problem), then who
 * the Slack user is at the desk (refused in words they see, with 200: Slack shows a non-200 as a
 * generic failure), then the action, all within Slack's 3 seconds
 * (https://api.slack.com/interactivity/handling#acknowledgment_response).
 *
 * A slash command's answer is the response body, ephemeral (https://api.slack.com/interactivity/slash-commands#responding_immediate_response).
 * A button press is answered 200 with an empty body. The message itself is not replaced from here:
 * the change commits a desk event, and the event queue's Slack target rewrites the message with
 * chat.update from the ticket as it then stands, so every copy of it (and the Teams cards) shows the
 * same state, in order with other changes, whoever made them. What happened goes to the presser
 * alone, as an ephemeral message through the payload's response_url
 * (https://api.slack.com/interactivity/handling#message_responses), `replace_original: false`.
 */

export interface SlackEndpointOptions {
  /** SLACK_SIGNING_SECRET. Never logged. */
  signingSecret: string;
  identify: (slackUserId: string) => Promise<SlackIdentity>;
  interactions: SlackInteractions;
  clock?: () => number;
  logger?: Logger;
  /**
   * Where response_url may point: Slack's hooks host. A payload is signed, but the URL in it is still
   * only ever posted to when it is Slack's, so the desk can never be made to call elsewhere.
   */
  responseUrlBase?: string;
}

export type SlackAnswer = { status: number; body: unknown };

const MAX_BODY = 64 * 1024;

const blockActions = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1).max(40) }),
  actions: z.array(z.object({ action_id: z.string().min(1).max(255), value: z.string().max(2000).optional() }).passthrough()).min(1).max(5),
  response_url: z.string().url().max(2000).optional(),
  container: z.object({ channel_id: z.string().max(40).optional(), message_ts: z.string().max(40).optional() }).passthrough().optional(),
});

const commandFields = z.object({
  command: z.string().min(1).max(100),
  text: z.string().max(4000).default(''),
  user_id: z.string().min(1).max(40),
  channel_id: z.string().max(40).optional(),
  response_url: z.string().max(2000).optional(),
});

export class SlackEndpoint {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: SlackEndpointOptions) {
    if (!options.signingSecret) throw new Error('SlackEndpoint needs the signing secret (SLACK_SIGNING_SECRET)');
  }

  async handle(kind: 'interactivity' | 'commands', rawBody: string, headers: Headers, now: number = (this.options.clock ?? Date.now)()): Promise<SlackAnswer> {
    if (rawBody.length > MAX_BODY) return { status: 413, body: { error: 'the body is larger than Slack sends' } };
    const verified = verifySlackSignature(this.options.signingSecret, rawBody, headers, now);
    if (!verified.ok) {
      this.options.logger?.warn({ kind, reason: verified.reason }, 'slack request refused');
      return { status: 401, body: { error: verified.reason } };
    }
    const form = new URLSearchParams(rawBody);
    try {
      return await (kind === 'interactivity' ? this.interactivity(form) : this.command(form));
    } catch (error) {
      // A fault of ours (the database went away): Slack shows the person a line, not a generic failure.
      this.options.logger?.error({ kind, error: error instanceof Error ? error.message : String(error) }, 'slack request failed');
      return ephemeral('The desk could not do that just now. Please try again in a minute.');
    }
  }

  /** Resolves when every response_url message started so far has been sent or given up (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async interactivity(form: URLSearchParams): Promise<SlackAnswer> {
    const raw = form.get('payload');
    if (raw === null) return problem('the form has no "payload" field');
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return problem('"payload" is not JSON');
    }
    const type = (json as { type?: unknown } | null)?.type;
    if (type !== 'block_actions') return problem(`interactions of type "${String(type).slice(0, 40)}" are not handled; only buttons (block_actions)`);
    const parsed = blockActions.safeParse(json);
    if (!parsed.success) return problem(issues(parsed.error));
    const payload = parsed.data;
    const action = payload.actions[0]!;
    const read = readButton(action.action_id, action.value);
    if (!read.ok) {
      this.options.logger?.warn({ action: action.action_id.slice(0, 60), problem: read.problem }, 'slack button refused');
      return problem(read.problem);
    }
    const who = await this.options.identify(payload.user.id);
    const text = who.ok ? await this.options.interactions.press(who.actor, read.button) : who.reason;
    if (text && payload.response_url) this.respond(payload.response_url, text);
    return { status: 200, body: '' };
  }

  private async command(form: URLSearchParams): Promise<SlackAnswer> {
    // Slack checks a command's certificate now and then with `ssl_check=1` and no command: it only wants a 200
    // (https://api.slack.com/interactivity/slash-commands#responding_to_commands).
    if (form.get('ssl_check') === '1' && !form.has('command')) return { status: 200, body: '' };
    const parsed = commandFields.safeParse(Object.fromEntries(form));
    if (!parsed.success) return problem(issues(parsed.error));
    const fields = parsed.data;
    const command = parseSlashCommand(fields.text);
    // Junk and help are answered before anyone is looked up: the usage line costs no users.info call.
    if (!command.ok) return ephemeral(command.error.includes('Usage:') ? command.error : `${command.error}\n${SLASH_USAGE}`);
    if (command.command.kind === 'help') return ephemeral(SLASH_USAGE);
    const who = await this.options.identify(fields.user_id);
    if (!who.ok) return ephemeral(who.reason);
    return ephemeral(await this.options.interactions.command(who.actor, command.command));
  }

  /** Tells the presser what happened, after the 200 has gone; a failure is logged, never retried. */
  private respond(responseUrl: string, text: string): void {
    const base = new URL(this.options.responseUrlBase ?? 'https://hooks.slack.com/');
    let target: URL;
    try {
      target = new URL(responseUrl);
    } catch {
      return;
    }
    if (target.origin !== base.origin || !target.pathname.startsWith(base.pathname)) {
      this.options.logger?.warn({ host: target.host }, 'slack response_url outside Slack ignored');
      return;
    }
    const sent = fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
      signal: AbortSignal.timeout(5_000),
    })
      .then(async (response) => {
        await response.arrayBuffer().catch(() => undefined);
        if (!response.ok) this.options.logger?.warn({ status: response.status }, 'slack response_url refused our answer');
      })
      .catch((error: unknown) => this.options.logger?.warn({ error: error instanceof Error ? error.message : String(error) }, 'slack response_url unreachable'))
      .finally(() => this.pending.delete(sent));
    this.pending.add(sent);
  }
}

const ephemeral = (text: string): SlackAnswer => ({ status: 200, body: { response_type: 'ephemeral', text } });
const problem = (text: string): SlackAnswer => ({ status: 400, body: { error: text } });
const issues = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
