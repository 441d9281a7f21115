import type { ConnectorCall } from '../fakes/connector.js';
import { channelMessage, personalMessage, type Person } from './activities.js';
import type { Harness } from './harness.js';

/**
 * What a test builds for itself, so that it never leans on another test's rows: tickets looked up by
 * the reference the bot answered with (never "the newest ticket"), and a clock of its own.
 */

export interface OpenedTicket {
  id: number;
  reference: string;
  /** The bot's answer to the "new" message. */
  reply: ConnectorCall;
}

/** The ticket reference a "Created INC-12" answer (text or card) names. */
export function createdReference(call: ConnectorCall): string {
  const text = JSON.stringify(call.activity.attachments?.[0]?.content ?? call.activity.text ?? '');
  const match = /Created ((?:INC|REQ)-\d+)/.exec(text);
  if (!match) throw new Error(`the bot did not say which ticket it created: ${text.slice(0, 300)}`);
  return match[1]!;
}

/** The id of the ticket with this reference. */
export async function ticketIdOf(h: Harness, reference: string): Promise<number> {
  return (await h.service.database.db.selectFrom('tickets').select('id').where('reference', '=', reference).executeTakeFirstOrThrow()).id;
}

/**
 * Opens a ticket as `person` with "new <subject>" (in a personal chat, or @mentioning the bot in
 * `channel`) and returns the ticket the bot says it created.
 */
export async function openTicket(h: Harness, person: Person, subject: string, where: { channel?: string } = {}): Promise<OpenedTicket> {
  const message = where.channel ? channelMessage(h, `new ${subject}`, { from: person, channel: where.channel }) : personalMessage(h, `new ${subject}`, { from: person });
  const response = await h.post(message);
  if (response.status !== 200) throw new Error(`opening "${subject}" answered ${response.status}`);
  const [reply] = await h.connector.waitFor((c) => c.activityId === message.id);
  const reference = createdReference(reply!);
  return { id: await ticketIdOf(h, reference), reference, reply: reply! };
}

/**
 * A hand-moved clock for a service under test, starting at `start` again whenever `reset` is called
 * (each test calls it in beforeEach, so no test inherits the time another test moved to).
 */
export function testClock(start: string) {
  const startsAt = Date.parse(start);
  if (Number.isNaN(startsAt)) throw new Error(`not a time: ${start}`);
  let current = startsAt;
  return {
    /** The clock to hand to the service: `service: { clock: clock.now }`. */
    now: () => current,
    set(iso: string): number {
      const to = Date.parse(iso);
      if (Number.isNaN(to)) throw new Error(`not a time: ${iso}`);
      current = to;
      return current;
    },
    reset(): void {
      current = startsAt;
    },
  };
}
