import type { Block, KnownBlock } from '@slack/web-api';
import type { DeskEvent, EventPerson } from '../../domain/desk-events.js';
import { buttonValue, SLACK_ACTIONS, SNOOZE_MINUTES, type SlackButton } from './actions.js';

/**
 * A ticket as a Slack message (Block Kit, https://api.slack.com/block-kit), pure: a header with the
 * reference and subject, the ticket's facts as fields, what just happened in words, and the buttons
 * that apply to the ticket as it stands. `text` is the fallback Slack shows in notifications and to
 * screen readers (https://api.slack.com/methods/chat.postMessage#text_usage).
 */

export interface RenderedMessage {
  text: string;
  blocks: Array<KnownBlock | Block>;
}

export interface RenderOptions {
  /** Where the ticket can be opened, if the desk has a page for it. */
  ticketUrl?: string | undefined;
}

const CLOSED = new Set(['resolved', 'closed']);
const CLOCK_WORDS: Record<string, string> = { first_response: 'first response', resolution: 'resolution' };

/** The message for the ticket in `event` (a new post, or the refresh of one posted before). */
export function ticketMessage(event: DeskEvent, options: RenderOptions = {}): RenderedMessage {
  const ticket = event.ticket;
  const happened = eventInWords(event);
  const blocks: Array<KnownBlock | Block> = [
    // Header text is plain, at most 150 characters (https://api.slack.com/reference/block-kit/blocks#header).
    { type: 'header', text: { type: 'plain_text', text: clip(`${ticket.reference} · ${ticket.subject}`, 150), emoji: false } },
    {
      type: 'section',
      fields: [
        field('Status', words(ticket.status)),
        field('Priority', ticket.priority),
        field('Tier', ticket.tier),
        field('Assignee', personText(ticket.assignee) ?? 'Unassigned'),
        field('Requester', personText(ticket.requester) ?? 'Unknown'),
      ],
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(escape(`${event.test ? '[test] ' : ''}${happened}`), 3000) }] },
  ];
  const buttons = buttonsFor(event, options);
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: `desk-${ticket.id}`, elements: buttons });
  // The fallback text is read as mrkdwn too, so it is escaped like the blocks.
  return { text: clip(escape(`${event.test ? '[test] ' : ''}${ticket.reference} ${ticket.subject}: ${happened}`), 3000), blocks };
}

/** The threaded reply that says what changed, under the ticket's message. */
export function threadReply(event: DeskEvent, options: RenderOptions = {}): RenderedMessage {
  const happened = `${event.test ? '[test] ' : ''}${eventInWords(event)}`;
  const blocks: Array<KnownBlock | Block> = [{ type: 'section', text: { type: 'mrkdwn', text: clip(escape(happened), 3000) } }];
  // What the event asks of people (snooze a warning, answer an escalation) goes with its reply too,
  // so it stays at hand after later changes have refreshed the message above.
  const asks = buttonsFor(event, options).filter((b) => b.action_id !== SLACK_ACTIONS.take && b.action_id !== SLACK_ACTIONS.open);
  if (asks.length > 0) blocks.push({ type: 'actions', elements: asks });
  return { text: clip(escape(`${event.ticket.reference}: ${happened}`), 3000), blocks };
}

/** What happened, in a sentence, with who did it. */
export function eventInWords(event: DeskEvent): string {
  const data = event.data;
  const by = event.actor ? ` by ${event.actor.name}` : '';
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  const clock = CLOCK_WORDS[text(data.clock) ?? ''] ?? 'SLA';
  switch (event.type) {
    case 'ticket.created':
      return `New ticket${by}`;
    case 'ticket.assigned': {
      const assignee = (data.assignee as EventPerson | null | undefined) ?? event.ticket.assignee;
      return assignee ? `Assigned to ${assignee.name}${by}` : `Unassigned${by}`;
    }
    case 'ticket.status_changed':
      return `Status ${words(text(data.from) ?? '?')} → ${words(text(data.to) ?? event.ticket.status)}${by}`;
    case 'ticket.priority_changed':
      return `Priority ${text(data.from) ?? '?'} → ${text(data.to) ?? event.ticket.priority}${by}`;
    case 'ticket.public_reply':
      return `Public reply${by}`;
    case 'ticket.updated':
      return `Ticket updated${by}`;
    case 'sla.warning': {
      const left = num(data.remainingMinutes);
      return `SLA warning: ${clock} due${left !== undefined ? ` in ${formatMinutes(left)}` : ' soon'}`;
    }
    case 'sla.breach':
      return `SLA breached: ${clock} target missed`;
    case 'escalation.raised': {
      const level = num(data.level);
      const levels = num(data.levels);
      return `Escalated${level !== undefined && levels !== undefined ? `: level ${level} of ${levels}` : ''}, will someone take it?`;
    }
    case 'escalation.accepted':
      return `Escalation accepted${by}`;
    case 'escalation.unanswered':
      return 'Escalation unanswered at every level';
    case 'reminder.due':
      return `Reminder${text(data.note) ? `: ${text(data.note)}` : ''}`;
  }
}

/** The buttons that apply to the ticket as it stands after `event`. */
function buttonsFor(event: DeskEvent, options: RenderOptions): Array<{ type: 'button'; action_id: string; text: { type: 'plain_text'; text: string }; value: string; style?: 'primary' | 'danger'; url?: string }> {
  const ticket = event.ticket;
  const open = !CLOSED.has(ticket.status);
  const button = (label: string, value: SlackButton, style?: 'primary' | 'danger') => ({
    type: 'button' as const,
    action_id: value.action,
    text: { type: 'plain_text' as const, text: label },
    value: buttonValue(value),
    ...(style ? { style } : {}),
  });
  const out: ReturnType<typeof buttonsFor> = [];
  if (open && ticket.assignee === null) out.push(button('Take', { action: SLACK_ACTIONS.take, ticketId: ticket.id }, 'primary'));
  const clock = event.data.clock;
  if (open && event.type === 'sla.warning' && (clock === 'first_response' || clock === 'resolution')) {
    for (const minutes of SNOOZE_MINUTES) out.push(button(`Snooze ${minutes} min`, { action: SLACK_ACTIONS.snooze, ticketId: ticket.id, clock, minutes }));
  }
  const escalationId = escalationIdOf(event);
  if (open && event.type === 'escalation.raised' && escalationId !== undefined) {
    out.push(button('Accept', { action: SLACK_ACTIONS.accept, ticketId: ticket.id, escalationId }, 'primary'));
    out.push(button('Decline', { action: SLACK_ACTIONS.decline, ticketId: ticket.id, escalationId }, 'danger'));
  }
  if (options.ticketUrl) out.push({ ...button('Open ticket', { action: SLACK_ACTIONS.open, ticketId: ticket.id }), url: options.ticketUrl });
  return out;
}

/** The escalation an escalation.* event is about (`data.escalationId`, or `data.id`). */
function escalationIdOf(event: DeskEvent): number | undefined {
  const value = event.data.escalationId ?? event.data.id;
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

const field = (label: string, value: string) => ({ type: 'mrkdwn' as const, text: clip(`*${label}*\n${escape(value)}`, 2000) });

const personText = (person: EventPerson | null): string | undefined => (person ? person.name : undefined);

/** `on_hold` → "On hold". */
const words = (status: string) => {
  const spaced = status.replace(/_/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
};

const formatMinutes = (minutes: number) => (minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${Math.max(0, Math.round(minutes))} min`);

/**
 * mrkdwn treats &, < and > as control characters (https://api.slack.com/reference/surfaces/formatting#escaping):
 * a subject like "<!channel>" must show as text, never ping the channel.
 */
export const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

