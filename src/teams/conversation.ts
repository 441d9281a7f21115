import { TurnContext, type Activity } from 'botbuilder';
import type { ConversationKind, ConversationToRemember } from '../store/conversation-references.js';

/**
 * A channel thread's conversation id is the channel's id plus `;messageid=<root>`. We store the channel
 * itself, so a reference recorded from a reply in some thread still posts new threads to the channel.
 */
export function channelConversationId(conversationId: string): string {
  const cut = conversationId.indexOf(';messageid=');
  return cut === -1 ? conversationId : conversationId.slice(0, cut);
}

export function threadConversationId(channelId: string, rootActivityId: string): string {
  return `${channelConversationId(channelId)};messageid=${rootActivityId}`;
}

interface TeamsChannelData {
  team?: { id?: string };
  tenant?: { id?: string };
}

export function conversationKind(activity: Partial<Activity>): ConversationKind {
  const type = activity.conversation?.conversationType;
  if (type === 'channel') return 'channel';
  if (type === 'groupChat' || activity.conversation?.isGroup) return 'groupChat';
  return 'personal';
}

export function teamIdOf(activity: Partial<Activity>): string | null {
  return (activity.channelData as TeamsChannelData | undefined)?.team?.id ?? null;
}

export function tenantIdOf(activity: Partial<Activity>): string | null {
  return activity.conversation?.tenantId ?? (activity.channelData as TeamsChannelData | undefined)?.tenant?.id ?? null;
}

/** What to store so the bot can write to this conversation later, with no incoming activity to answer. */
export function conversationToRemember(activity: Activity): ConversationToRemember {
  const kind = conversationKind(activity);
  const reference = TurnContext.getConversationReference(activity);
  const conversationId = kind === 'channel' ? channelConversationId(activity.conversation.id) : activity.conversation.id;
  // The stored reference points at the conversation, not at the activity it was learnt from.
  delete reference.activityId;
  reference.conversation = { ...activity.conversation, id: conversationId };
  const person = kind === 'personal' && activity.from?.id !== activity.recipient?.id ? activity.from : undefined;
  return {
    conversationId,
    kind,
    tenantId: tenantIdOf(activity),
    teamId: teamIdOf(activity),
    userTeamsId: person?.id ?? null,
    userAadObjectId: person?.aadObjectId ?? null,
    serviceUrl: activity.serviceUrl,
    reference,
  };
}
