import type { DeskEvent } from '../../domain/desk-events.js';
import type { WindowRule } from '../../domain/rate-limit.js';
import { TargetError, type DeliveryContext, type DeliveryResult, type NotifyTarget } from '../notify/target.js';
import { ticketMessage, threadReply } from './blocks.js';
import type { SlackApi } from './client.js';

/**
 * Desk events to one Slack channel: the first event of a ticket posts a message (chat.postMessage),
 * later ones update it in place (chat.update) with the ticket as it now stands, like the Teams cards,
 * and an event a rule sent here also gets a threaded reply saying what happened.
 */

export interface SlackTargetOptions {
  /** The integration's name from the config file. */
  name: string;
  /** The channel's id (C…), not its name: names change, ids do not. */
  channel: string;
  client: SlackApi;
  /** A link to the ticket, when the desk has a page for it. */
  ticketUrl?: (ticketId: number, reference: string) => string | undefined;
}

/**
 * "chat.postMessage generally allows posting one message per second per channel"
 * (https://api.slack.com/apis/rate-limits#posting-messages). A delivery posts at most one message
 * (a first post, or a thread reply); chat.update is a Tier 3 method, limited per workspace, not per
 * channel, which the 429s Slack sends pace well enough.
 */
export const SLACK_CHANNEL_LIMITS: readonly WindowRule[] = [{ limit: 1, windowMs: 1_000 }];

export class SlackTarget implements NotifyTarget {
  readonly kind = 'slack' as const;
  readonly followsTickets = true;
  readonly limits = SLACK_CHANNEL_LIMITS;
  readonly name: string;

  constructor(private readonly options: SlackTargetOptions) {
    this.name = options.name;
    if (!/^[CGD][A-Z0-9]{2,}$/.test(options.channel)) throw new Error(`Slack target "${options.name}": "${options.channel}" is not a channel id (like C024BE91L)`);
  }

  laneOf(_event: DeskEvent): string {
    return this.options.channel;
  }

  describe(): string {
    return `Slack channel ${this.options.channel}`;
  }

  async deliver(event: DeskEvent, context: DeliveryContext): Promise<DeliveryResult> {
    const url = this.options.ticketUrl?.(event.ticket.id, event.ticket.reference);
    const message = ticketMessage(event, { ticketUrl: url });
    const client = this.options.client;
    if (!context.previous) {
      // A follow-up whose first message never went out (dead-lettered): nothing to keep current.
      if (!context.matched) return { summary: 'nothing posted for this ticket yet', skipped: true };
      return this.post(event, context, message);
    }

    const where = parseExternalId(context.previous.externalId);
    if (!where) throw new TargetError('permanent', `"${context.previous.externalId}" is not a Slack message we posted (channel:ts)`);
    try {
      await client.update({ channel: where.channel, ts: where.ts, ...message }, context.signal);
    } catch (error) {
      // Someone deleted the message: the ticket gets a new one rather than no message at all.
      if (error instanceof TargetError && /message_not_found/.test(error.message)) return this.post(event, context, message, 'posted again (the old message was deleted)');
      throw error;
    }
    if (!context.matched) return { summary: `updated ts ${where.ts} in ${where.channel}` };
    const reply = await client.postMessage({ channel: where.channel, threadTs: where.ts, ...threadReply(event, { ticketUrl: url }) }, context.signal);
    return { summary: `updated ts ${where.ts} in ${where.channel}, replied in its thread (ts ${reply.ts})` };
  }

  private async post(event: DeskEvent, context: DeliveryContext, message: ReturnType<typeof ticketMessage>, how = 'posted'): Promise<DeliveryResult> {
    const posted = await this.options.client.postMessage({ channel: this.options.channel, ...message }, context.signal);
    return { summary: `${how} ts ${posted.ts} to ${posted.channel} for ${event.ticket.reference}`, post: { externalId: `${posted.channel}:${posted.ts}` } };
  }
}

/** `C024BE91L:1700000000.000100` → its channel and message ts. */
export function parseExternalId(externalId: string): { channel: string; ts: string } | undefined {
  const match = /^([A-Z0-9]+):(\d+\.\d+)$/.exec(externalId);
  return match ? { channel: match[1]!, ts: match[2]! } : undefined;
}
