import { z } from 'zod';

/**
 * The buttons the desk puts on Slack messages, and the values they carry. A value comes back from
 * Slack as text the presser's client sent (https://api.slack.com/reference/interaction-payloads/block-actions):
 * anyone able to craft a request signed with our secret is already Slack, but a value is still read
 * with a schema and every id in it re-checked by the desk's services, never trusted.
 */

export const SLACK_ACTIONS = {
  take: 'desk.ticket.take',
  snooze: 'desk.sla.snooze',
  accept: 'desk.escalation.accept',
  decline: 'desk.escalation.decline',
  /** A link button: Slack still sends an interaction for it, which only needs acknowledging. */
  open: 'desk.ticket.open',
} as const;

export type SlackActionId = (typeof SLACK_ACTIONS)[keyof typeof SLACK_ACTIONS];

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const SNOOZE_MINUTES = [30, 60] as const;

const schemas = {
  [SLACK_ACTIONS.take]: z.object({ ticketId: id }).strict(),
  [SLACK_ACTIONS.snooze]: z
    .object({ ticketId: id, clock: z.enum(['first_response', 'resolution']), minutes: z.union([z.literal(SNOOZE_MINUTES[0]), z.literal(SNOOZE_MINUTES[1])]) })
    .strict(),
  [SLACK_ACTIONS.accept]: z.object({ ticketId: id, escalationId: id }).strict(),
  [SLACK_ACTIONS.decline]: z.object({ ticketId: id, escalationId: id }).strict(),
  [SLACK_ACTIONS.open]: z.object({ ticketId: id }).strict(),
};

export type SlackButton =
  | { action: typeof SLACK_ACTIONS.take; ticketId: number }
  | { action: typeof SLACK_ACTIONS.snooze; ticketId: number; clock: 'first_response' | 'resolution'; minutes: 30 | 60 }
  | { action: typeof SLACK_ACTIONS.accept | typeof SLACK_ACTIONS.decline; ticketId: number; escalationId: number }
  | { action: typeof SLACK_ACTIONS.open; ticketId: number };

/** The `value` of a button (Slack allows up to 2,000 characters; ours are a few dozen). */
export function buttonValue(button: SlackButton): string {
  const { action: _action, ...value } = button;
  return JSON.stringify(value);
}

/** Reads a pressed button back: its action id and value, or what is wrong with them. */
export function readButton(actionId: string, value: string | undefined): { ok: true; button: SlackButton } | { ok: false; problem: string } {
  const schema = (schemas as Record<string, z.ZodTypeAny>)[actionId];
  if (!schema) return { ok: false, problem: `unknown action "${actionId.slice(0, 60)}"` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value ?? '');
  } catch {
    return { ok: false, problem: 'the button value is not JSON' };
  }
  const checked = schema.safeParse(parsed);
  if (!checked.success) return { ok: false, problem: 'the button value is not one the desk made' };
  return { ok: true, button: { action: actionId, ...(checked.data as object) } as SlackButton };
}
