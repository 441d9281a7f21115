import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeskEvent, DeskEventType, TicketSnapshot } from '../../../src/domain/desk-events.js';
import { SlackApi } from '../../../src/integrations/slack/client.js';
import { SlackTarget } from '../../../src/integrations/slack/target.js';
import { TargetError, type DeliveryContext } from '../../../src/integrations/notify/target.js';
import { buttonsOf, FakeSlack } from '../../fakes/slack.js';

const CHANNEL = 'C0DESK0001';
const T0 = Date.parse('2026-11-23T10:00:00Z');

const snapshot = (over: Partial<TicketSnapshot> = {}): TicketSnapshot => ({
  id: 42,
  reference: 'INC-42',
  subject: 'VPN down for <!channel> & sales',
  type: 'incident',
  status: 'open',
  priority: 'P2',
  tier: 'gold',
  teamId: null,
  requester: { name: 'Alex Wilber', email: 'alex@contoso.example' },
  assignee: null,
  version: 1,
  createdAt: '2026-11-23T09:00:00.000Z',
  dueAt: null,
  ...over,
});

let sequence = 0;
const event = (type: DeskEventType, ticket: TicketSnapshot, data: Record<string, unknown> = {}, actor: DeskEvent['actor'] = null): DeskEvent => ({
  id: `evt-${++sequence}`,
  type,
  version: 1,
  occurredAt: new Date(T0).toISOString(),
  actor,
  ticket,
  data,
});

describe('Slack target (real WebClient against the loopback Slack fake)', () => {
  let slack: FakeSlack;
  let target: SlackTarget;
  let now = T0;
  const ctx = (over: Partial<DeliveryContext> = {}): DeliveryContext => ({ previous: undefined, matched: true, signal: new AbortController().signal, ...over });
  const labels = (ts: string) => buttonsOf(slack.messages.find((m) => m.ts === ts)!).map((b) => b.text.text);
  /** Slack's clock moves past the per-channel second between posts, as a real queue's pacing would. */
  const nextSecond = () => {
    now += 1_100;
  };

  beforeEach(async () => {
    now = T0;
    slack = await new FakeSlack().start();
    slack.now = () => now;
    target = new SlackTarget({ name: 'desk-slack', channel: CHANNEL, client: new SlackApi({ token: slack.token, apiUrl: slack.apiUrl }), ticketUrl: (id) => `https://desk.contoso.example/tickets/${id}` });
  });
  afterEach(() => slack.stop());

  it('posts a ticket once, then updates that same message in place and replies in its thread', async () => {
    const created = await target.deliver(event('ticket.created', snapshot()), ctx());
    expect(created.post?.externalId).toMatch(/^C0DESK0001:\d+\.\d{6}$/);
    const [message] = slack.posts(CHANNEL);
    expect(message!.blocks[0].text.text).toBe('INC-42 · VPN down for <!channel> & sales');
    // Block text is mrkdwn: the subject must not ping the channel.
    expect(message!.text).toContain('&lt;!channel&gt; &amp; sales');
    expect(JSON.stringify(message!.blocks[1])).toContain('Unassigned');
    expect(labels(message!.ts)).toEqual(['Take', 'Open ticket']);

    nextSecond();
    const megan = { name: 'Megan Bowen', email: 'megan@contoso.example' };
    const taken = await target.deliver(event('ticket.assigned', snapshot({ assignee: megan, version: 2 }), { assignee: megan }, megan), ctx({ previous: created.post }));
    expect(taken.post).toBeUndefined();
    expect(slack.posts(CHANNEL)).toHaveLength(1);
    expect(message!.updates).toHaveLength(1);
    expect(JSON.stringify(message!.blocks)).toContain('Megan Bowen');
    // Taken: no Take button any more.
    expect(labels(message!.ts)).toEqual(['Open ticket']);
    expect(slack.repliesTo(message!.ts).map((r) => r.text)).toEqual(['INC-42: Assigned to Megan Bowen by Megan Bowen']);

    // A follow-up no rule sent here only refreshes the message.
    nextSecond();
    await target.deliver(event('ticket.updated', snapshot({ assignee: megan, version: 3 })), ctx({ previous: created.post, matched: false }));
    expect(message!.updates).toHaveLength(2);
    expect(slack.repliesTo(message!.ts)).toHaveLength(1);
  });

  it('offers Snooze on an SLA warning and Accept/Decline on an escalation, carrying the ticket and escalation', async () => {
    const warned = await target.deliver(event('sla.warning', snapshot(), { clock: 'resolution', threshold: '75%', remainingMinutes: 30 }), ctx());
    const ts = warned.post!.externalId.split(':')[1]!;
    expect(labels(ts)).toEqual(['Take', 'Snooze 30 min', 'Snooze 60 min', 'Open ticket']);
    expect(slack.messages[0]!.text).toContain('SLA warning: resolution due in 30 min');
    const snooze = buttonsOf(slack.messages[0]!).find((b) => b.text.text === 'Snooze 60 min')!;
    expect(JSON.parse(snooze.value)).toEqual({ ticketId: 42, clock: 'resolution', minutes: 60 });

    nextSecond();
    await target.deliver(event('escalation.raised', snapshot(), { escalationId: 7, level: 1, levels: 2, target: 'channel:triage' }), ctx({ previous: warned.post }));
    expect(labels(ts)).toEqual(['Take', 'Accept', 'Decline', 'Open ticket']);
    const reply = slack.repliesTo(ts)[0]!;
    expect(buttonsOf(reply).map((b) => [b.text.text, JSON.parse(b.value)])).toEqual([
      ['Accept', { ticketId: 42, escalationId: 7 }],
      ['Decline', { ticketId: 42, escalationId: 7 }],
    ]);

    nextSecond();
    await target.deliver(event('ticket.status_changed', snapshot({ status: 'closed' }), { from: 'open', to: 'closed' }), ctx({ previous: warned.post }));
    expect(labels(ts)).toEqual(['Open ticket']);
  });

  it('keeps to one message a second per channel, and a 429 comes back as throttled with Slack’s Retry-After', async () => {
    expect(target.limits).toEqual([{ limit: 1, windowMs: 1_000 }]);
    expect(target.laneOf(event('ticket.created', snapshot()))).toBe(CHANNEL);
    await target.deliver(event('ticket.created', snapshot()), ctx());
    // A second post in the same second: Slack refuses it, and the client does not retry on its own.
    const refused = await target.deliver(event('ticket.created', snapshot({ id: 43, reference: 'INC-43' })), ctx()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TargetError);
    expect(refused).toMatchObject({ kind: 'throttled', details: { status: 429, retryAfterMs: 1_000 } });
    expect(slack.count('chat.postMessage')).toBe(2);
    slack.faults.push({ method: 'chat.postMessage', status: 429, retryAfter: 30, times: 1 });
    nextSecond();
    await expect(target.deliver(event('ticket.created', snapshot()), ctx())).rejects.toMatchObject({ kind: 'throttled', details: { retryAfterMs: 30_000 } });
  });

  it('reads Slack’s refusals: unknown channel and bad token are permanent in plain words, 5xx is transient', async () => {
    const elsewhere = new SlackTarget({ name: 'gone', channel: 'C0GONE0000', client: new SlackApi({ token: slack.token, apiUrl: slack.apiUrl }) });
    const notFound = await elsewhere.deliver(event('ticket.created', snapshot()), ctx()).catch((e: unknown) => e);
    expect(notFound).toMatchObject({ kind: 'permanent', message: expect.stringContaining('channel_not_found') });
    expect((notFound as Error).message).toMatch(/invite the bot/);

    const badToken = new SlackTarget({ name: 'bad', channel: CHANNEL, client: new SlackApi({ token: 'xoxb-wrong', apiUrl: slack.apiUrl }) });
    const auth = await badToken.deliver(event('ticket.created', snapshot()), ctx()).catch((e: unknown) => e);
    expect(auth).toMatchObject({ kind: 'permanent', message: expect.stringContaining('bot token is not valid; check SLACK_BOT_TOKEN') });
    expect((auth as Error).message).not.toContain('xoxb');

    slack.faults.push({ method: 'chat.postMessage', status: 503, times: 1 });
    await expect(target.deliver(event('ticket.created', snapshot()), ctx())).rejects.toMatchObject({ kind: 'transient', details: { status: 503 } });
  });

  it('posts a new message when the one it kept current was deleted', async () => {
    const first = await target.deliver(event('ticket.created', snapshot()), ctx());
    slack.deleteMessage(first.post!.externalId.split(':')[1]!);
    nextSecond();
    const again = await target.deliver(event('ticket.updated', snapshot({ version: 2 })), ctx({ previous: first.post }));
    expect(again.post?.externalId).not.toBe(first.post!.externalId);
    expect(slack.posts(CHANNEL)).toHaveLength(1);
  });

  it('gives up a request when the attempt’s signal aborts (the worker’s time-out)', async () => {
    const controller = new AbortController();
    controller.abort(new Error('attempt timed out'));
    await expect(target.deliver(event('ticket.created', snapshot()), ctx({ signal: controller.signal }))).rejects.toMatchObject({ kind: 'transient', message: expect.stringContaining('did not answer in time') });
  });

  it('refuses a channel name where a channel id belongs', () => {
    expect(() => new SlackTarget({ name: 'x', channel: '#support', client: new SlackApi({ token: 't' }) })).toThrow(/not a channel id/);
  });
});
