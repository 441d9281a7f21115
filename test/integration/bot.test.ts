import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  alex,
  channelMessage,
  CHANNEL_ID,
  invoke,
  personalConversationId,
  personalInstall,
  personalMessage,
  somebody,
  someTeam,
  teamMembersAdded,
  teamMembersRemoved,
} from '../support/activities.js';
import { startHarness, type Harness } from '../support/harness.js';

const fixture = (path: string) => JSON.parse(readFileSync(new URL(`../fixtures/teams-activities/${path}`, import.meta.url), 'utf8'));

describe('the bot over HTTP, with auth on', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());
  /** Where this test's log lines start. */
  let logsBefore = 0;
  beforeEach(() => {
    logsBefore = h.logs.lines.length;
  });

  const references = () =>
    h.service.database.db.selectFrom('conversation_references').selectAll().orderBy('id').execute();
  const textOf = (activity: Record<string, any>) =>
    activity.text ?? JSON.stringify(activity.attachments?.[0]?.content ?? {});

  describe('install and first contact', () => {
    it('remembers a personal install and welcomes the person once, even though Teams sends two events', async () => {
      const megan = somebody('Megan');
      const install = personalInstall(h, 'add', megan);
      expect((await h.post(install)).status).toBe(200);
      const [welcome] = await h.connector.waitFor((c) => c.activityId === install.id);
      expect(welcome!.conversationId).toBe(personalConversationId(megan));
      expect(welcome!.activity.summary).toMatch(/Service Desk bot/);
      expect(textOf(welcome!.activity)).toContain('Megan');

      // The conversationUpdate that accompanies the install must not greet again.
      const added = { ...personalInstall(h, 'add', megan), type: 'conversationUpdate', membersAdded: [{ id: `28:${h.botAppId}` }] };
      delete (added as Record<string, unknown>).action;
      expect((await h.post(added)).status).toBe(200);
      const stored = (await references()).filter((r) => r.conversation_id === personalConversationId(megan));
      expect(stored).toHaveLength(1);
      expect(stored[0]!).toMatchObject({ kind: 'personal', user_aad_object_id: megan.aadObjectId, removed_at: null });
      expect(h.connector.calls.filter((c) => c.activityId === added.id)).toHaveLength(0);
    });

    it('remembers a team install under the team, and welcomes the team in its channel', async () => {
      const { team: teamId } = someTeam();
      const added = teamMembersAdded(h, 'Contoso *Support*', teamId);
      expect((await h.post(added)).status).toBe(200);
      const [welcome] = await h.connector.waitFor((c) => c.activityId === added.id);
      expect(welcome!.conversationId).toBe(teamId);
      // The team's name is shown as written: its asterisks must not turn into Markdown bold.
      const card = welcome!.activity.attachments[0].content;
      expect(JSON.stringify(card.body[0])).toContain('"text":"Contoso *Support*"');
      expect(card.body[0].type).toBe('RichTextBlock');
      const team = (await references()).find((r) => r.conversation_id === teamId);
      expect(team).toMatchObject({ kind: 'channel', team_id: teamId, tenant_id: expect.any(String) });
    });

    it('accepts the published team-install fixture from the Teams docs', async () => {
      const activity = fixture('installationUpdate-add-team.json');
      activity.serviceUrl = h.serviceUrl;
      activity.recipient = { id: `28:${h.botAppId}`, name: 'Service Desk' };
      const response = await h.post(activity);
      expect(response.status).toBe(200);
      const conversationId = activity.conversation.id.split(';')[0];
      expect((await references()).some((r) => r.conversation_id === conversationId)).toBe(true);
    });

    it('remembers a conversation on first contact when no install event was seen', async () => {
      const { team: teamId, channel: channelId } = someTeam();
      const message = channelMessage(h, 'help', { threadRootId: '1700000000000', channel: channelId, team: teamId });
      expect((await h.post(message)).status).toBe(200);
      await h.connector.waitFor((c) => c.activityId === message.id);
      // Stored as the channel itself, not as the thread the message came from.
      const channel = (await references()).find((r) => r.conversation_id === channelId);
      expect(channel).toMatchObject({ kind: 'channel', team_id: teamId });
      expect(JSON.parse(channel!.reference).conversation.id).toBe(channelId);
    });

    it('forgets a personal chat on uninstall, and every channel of a team when removed from it', async () => {
      const megan = somebody('Megan');
      await h.install(megan);
      expect((await h.post(personalInstall(h, 'remove', megan))).status).toBe(200);
      expect((await references()).find((r) => r.conversation_id === personalConversationId(megan))!.removed_at).not.toBeNull();

      // A team the bot knows two conversations of: the team itself, and a channel someone mentioned it in.
      const { team: teamId, channel } = someTeam();
      const added = teamMembersAdded(h, 'Contoso Support', teamId);
      await h.post(added);
      await h.connector.waitFor((c) => c.activityId === added.id);
      const mention = channelMessage(h, 'help', { channel, team: teamId });
      await h.post(mention);
      await h.connector.waitFor((c) => c.activityId === mention.id);

      expect((await h.post(teamMembersRemoved(h, teamId))).status).toBe(200);
      const ofTeam = (await references()).filter((r) => r.team_id === teamId);
      expect(ofTeam.length).toBeGreaterThanOrEqual(2);
      expect(ofTeam.every((r) => r.removed_at !== null)).toBe(true);
    });

    it('welcomes again after a reinstall', async () => {
      const megan = somebody('Megan');
      await h.install(megan);
      await h.post(personalInstall(h, 'remove', megan));
      expect((await references()).find((r) => r.conversation_id === personalConversationId(megan))!.removed_at).not.toBeNull();
      const install = personalInstall(h, 'add', megan);
      await h.post(install);
      const [welcome] = await h.connector.waitFor((c) => c.activityId === install.id);
      expect(welcome!.activity.summary).toMatch(/Service Desk bot/);
      expect((await references()).find((r) => r.conversation_id === personalConversationId(megan))!.removed_at).toBeNull();
    });
  });

  describe('help', () => {
    it.each(['help', 'HELP', '  Help! ', '?'])('answers %j in a personal chat with the help card', async (text) => {
      const message = personalMessage(h, text);
      await h.post(message);
      const [reply] = await h.connector.waitFor((c) => c.activityId === message.id);
      expect(reply!.conversationId).toBe(personalConversationId(alex));
      expect(reply!.activity.summary).toBe('What Service Desk can do');
      const card = reply!.activity.attachments[0].content;
      expect(card.type).toBe('AdaptiveCard');
      expect(JSON.stringify(card)).toContain('Show this list');
    });

    it('answers an @mention in a channel thread, in that thread', async () => {
      const message = channelMessage(h, 'help', { threadRootId: '1700000000001' });
      await h.post(message);
      const [reply] = await h.connector.waitFor((c) => c.activityId === message.id);
      expect(reply!.conversationId).toBe(`${CHANNEL_ID};messageid=1700000000001`);
      expect(JSON.stringify(reply!.activity.attachments[0].content)).toContain('Mention me first');
    });

    it('answers the real captured channel message that mentions the bot', async () => {
      const activity = fixture('message-channel-reply-with-bot-mention.json');
      activity.serviceUrl = h.serviceUrl;
      const botId = activity.recipient.id;
      activity.recipient = { ...activity.recipient, id: `28:${h.botAppId}` };
      for (const entity of activity.entities) if (entity.mentioned?.id === botId) entity.mentioned.id = `28:${h.botAppId}`;
      const response = await h.post(activity);
      expect(response.status).toBe(200);
      const [reply] = await h.connector.waitFor((c) => c.activityId === activity.id);
      // "reply to thread" reads as a reply without a ticket reference, and the bot asks which ticket.
      expect(reply!.activity.summary).toBe('Which ticket? Add its reference, e.g. “reply INC-1042”.');
    });

    it('takes a requester’s words that are not a command for a request, and offers to open a ticket with them', async () => {
      // Agents still hear "I don't know …" with the closest command (free-text.test.ts, tickets.test.ts).
      const message = personalMessage(h, 'make me a sandwich');
      await h.post(message);
      const [reply] = await h.connector.waitFor((c) => c.activityId === message.id);
      expect(reply!.activity.summary).toBe('Open a ticket with this?');
    });
  });

  describe('bad input', () => {
    it('answers a body that is not JSON with 400 and keeps serving', async () => {
      const response = await h.post('{"type": "message", ');
      expect(response.status).toBe(400);
      expect(h.logs.lines.slice(logsBefore).some((l) => l.status === 400 && /Invalid JSON/.test(l.reason ?? ''))).toBe(true);
      expect((await fetch(`${h.service.url}/healthz`)).status).toBe(200);
    });

    it('answers an activity missing protocol fields with 400 naming each one', async () => {
      const { conversation: _c, from: _f, ...partial } = personalMessage(h, 'help');
      const response = await h.post(partial);
      expect(response.status).toBe(400);
      expect(response.body.problems).toEqual(expect.arrayContaining(['conversation: is required', 'from: is required']));
      expect(h.logs.lines.slice(logsBefore).some((l) => l.msg === 'rejected a malformed activity')).toBe(true);
    });

    it('answers a 1 MB message with 413 and stores nothing', async () => {
      const before = (await references()).length;
      const response = await h.post(personalMessage(h, 'x'.repeat(1024 * 1024), { from: { ...alex, id: '29:huge', aadObjectId: 'huge' } }));
      expect(response.status).toBe(413);
      expect((await references()).length).toBe(before);
      const after = personalMessage(h, 'help');
      await h.post(after);
      await h.connector.waitFor((c) => c.activityId === after.id);
    });

    it('answers an unknown invoke with 501 and a log line naming it', async () => {
      const response = await h.post(invoke(h, 'composeExtension/unheardOf', { anything: true }));
      expect(response.status).toBe(501);
      expect(h.logs.lines.slice(logsBefore).some((l) => l.msg === 'unsupported invoke' && l.invoke === 'composeExtension/unheardOf')).toBe(true);
    });

    it('answers an array body with 400', async () => {
      const response = await h.post([personalMessage(h, 'help')]);
      expect(response.status).toBe(400);
    });
  });

  it('reports readiness from the database', async () => {
    const ready = await fetch(`${h.service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: { status: 'ok' }, bot: { status: 'ok' } } });
  });
});
