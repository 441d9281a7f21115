import { randomUUID } from 'node:crypto';

/**
 * Inbound Teams activities, shaped like the real captures in test/fixtures/teams-activities (from
 * https://github.com/microsoft/teams.net, see test/fixtures/PROVENANCE.md), built with
 * overrides so each test states only what it is about.
 */

export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const TEAM_ID = '19:team-general-4f2c@thread.tacv2';
export const CHANNEL_ID = '19:support-channel-9a1b@thread.tacv2';

export interface Person {
  id: string;
  aadObjectId: string;
  name: string;
}

export const alex: Person = { id: '29:1alex-teams-id', aadObjectId: '00000000-0000-0000-0000-0000000000a1', name: 'Alex Wilber' };
export const megan: Person = { id: '29:1megan-teams-id', aadObjectId: '00000000-0000-0000-0000-0000000000b2', name: 'Megan Bowen' };
export const adele: Person = { id: '29:1adele-teams-id', aadObjectId: '00000000-0000-0000-0000-0000000000d4', name: 'Adele Vance' };

export interface ActivityContext {
  serviceUrl: string;
  botAppId: string;
}

function bot(ctx: ActivityContext) {
  return { id: `28:${ctx.botAppId}`, name: 'Service Desk' };
}

function base(ctx: ActivityContext) {
  return {
    id: `f:${randomUUID()}`,
    timestamp: new Date().toISOString(),
    localTimestamp: new Date().toISOString(),
    channelId: 'msteams',
    serviceUrl: ctx.serviceUrl,
    recipient: bot(ctx),
    locale: 'en-US',
  };
}

export function personalConversationId(person: Person): string {
  return `a:personal-${person.aadObjectId}`;
}

export function personalMessage(ctx: ActivityContext, text: string, overrides: { from?: Person } & Record<string, unknown> = {}) {
  const { from = alex, ...rest } = overrides;
  return {
    ...base(ctx),
    type: 'message',
    text,
    textFormat: 'plain',
    from: { id: from.id, name: from.name, aadObjectId: from.aadObjectId },
    conversation: { conversationType: 'personal', tenantId: TENANT_ID, id: personalConversationId(from) },
    channelData: { tenant: { id: TENANT_ID } },
    entities: [{ type: 'clientInfo', locale: 'en-US', country: 'US', platform: 'Web', timezone: 'Europe/London' }],
    ...rest,
  };
}

/** A message in a channel (of `team`) that @mentions the bot, optionally as a reply in a thread. */
export function channelMessage(
  ctx: ActivityContext,
  text: string,
  overrides: { from?: Person; threadRootId?: string; channel?: string; team?: string } & Record<string, unknown> = {},
) {
  const { from = alex, threadRootId, channel = CHANNEL_ID, team = TEAM_ID, ...rest } = overrides;
  const mention = `<at>Service Desk</at>`;
  return {
    ...base(ctx),
    type: 'message',
    text: `${mention} ${text}`,
    textFormat: 'plain',
    from: { id: from.id, name: from.name, aadObjectId: from.aadObjectId },
    conversation: {
      isGroup: true,
      conversationType: 'channel',
      tenantId: TENANT_ID,
      id: threadRootId ? `${channel};messageid=${threadRootId}` : channel,
    },
    channelData: {
      teamsChannelId: channel,
      teamsTeamId: team,
      channel: { id: channel },
      team: { id: team, name: 'Contoso Support' },
      tenant: { id: TENANT_ID },
    },
    entities: [{ type: 'mention', text: mention, mentioned: bot(ctx) }],
    ...(threadRootId ? { replyToId: threadRootId } : {}),
    ...rest,
  };
}

export function personalInstall(ctx: ActivityContext, action: 'add' | 'remove' = 'add', person: Person = alex) {
  return {
    ...base(ctx),
    type: 'installationUpdate',
    action,
    from: { id: person.id, name: person.name, aadObjectId: person.aadObjectId },
    conversation: { conversationType: 'personal', tenantId: TENANT_ID, id: personalConversationId(person) },
    channelData: { tenant: { id: TENANT_ID }, source: { name: 'message' } },
  };
}

/** The bot added to a team (TEAM_ID unless given): Teams' conversationUpdate with the bot among membersAdded (fixture shape). */
export function teamMembersAdded(ctx: ActivityContext, teamName = 'Contoso Support', teamId = TEAM_ID) {
  return {
    ...base(ctx),
    type: 'conversationUpdate',
    membersAdded: [{ id: `28:${ctx.botAppId}` }],
    from: { id: alex.id, aadObjectId: alex.aadObjectId },
    conversation: { isGroup: true, conversationType: 'channel', tenantId: TENANT_ID, id: teamId },
    channelData: {
      team: { aadGroupId: 'b1f0f4e0-2d7a-4b7e-9d2f-3c1f0e7a9b11', name: teamName, id: teamId },
      eventType: 'teamMemberAdded',
      tenant: { id: TENANT_ID },
      settings: { selectedChannel: { id: teamId } },
    },
  };
}

export function teamMembersRemoved(ctx: ActivityContext, teamId = TEAM_ID) {
  const added = teamMembersAdded(ctx, undefined, teamId);
  const { membersAdded: _gone, ...rest } = added;
  return { ...rest, membersRemoved: [{ id: `28:${ctx.botAppId}` }], channelData: { ...added.channelData, eventType: 'teamMemberRemoved' } };
}

export function invoke(ctx: ActivityContext, name: string, value: unknown, from: Person = alex) {
  return {
    ...base(ctx),
    type: 'invoke',
    name,
    value,
    from: { id: from.id, name: from.name, aadObjectId: from.aadObjectId },
    conversation: { conversationType: 'personal', tenantId: TENANT_ID, id: personalConversationId(from) },
    channelData: { tenant: { id: TENANT_ID } },
  };
}

/** A team (its id, and the id of a channel in it) no other test uses. */
let teamCounter = 0;
export function someTeam(): { team: string; channel: string } {
  teamCounter += 1;
  return { team: `19:team-${teamCounter}-${randomUUID().slice(0, 8)}@thread.tacv2`, channel: `19:channel-${teamCounter}-${randomUUID().slice(0, 8)}@thread.tacv2` };
}

/** A distinct person per call, for tests that need conversations of their own. */
let personCounter = 0;
export function somebody(name = 'Test Person'): Person {
  personCounter += 1;
  const suffix = personCounter.toString(16).padStart(12, '0');
  return { id: `29:person-${suffix}`, aadObjectId: `00000000-0000-0000-0000-${suffix}`, name: `${name} ${personCounter}` };
}

/** A button press on an Adaptive Card (Universal Action), from the conversation the card lives in. */
export function cardAction(
  ctx: ActivityContext,
  options: { verb: string; data: Record<string, unknown>; from?: Person; replyToId?: string; inChannel?: boolean },
) {
  const from = options.from ?? alex;
  const conversation = options.inChannel
    ? { isGroup: true, conversationType: 'channel', tenantId: TENANT_ID, id: `${CHANNEL_ID};messageid=${options.replyToId ?? '1'}` }
    : { conversationType: 'personal', tenantId: TENANT_ID, id: personalConversationId(from) };
  return {
    ...base(ctx),
    type: 'invoke',
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', verb: options.verb, data: options.data }, trigger: 'manual' },
    from: { id: from.id, name: from.name, aadObjectId: from.aadObjectId },
    conversation,
    replyToId: options.replyToId ?? 'card-1',
    channelData: options.inChannel
      ? { channel: { id: CHANNEL_ID }, team: { id: TEAM_ID, name: 'Contoso Support' }, tenant: { id: TENANT_ID }, source: { name: 'message' } }
      : { tenant: { id: TENANT_ID }, source: { name: 'message' } },
  };
}

/** The Action.Submit fallback: a message with the card's data as its value and no text. */
export function cardSubmit(ctx: ActivityContext, value: Record<string, unknown>, from: Person = alex) {
  const message = personalMessage(ctx, '', { from });
  const { text: _text, ...rest } = message;
  return { ...rest, value, replyToId: 'card-1' };
}
