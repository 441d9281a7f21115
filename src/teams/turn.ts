import type { Activity } from 'botbuilder';
import { isValidTimeZone } from '../domain/business-time.js';
import { normalizeCommandText } from '../domain/command-text.js';
import type { PersonSeen } from '../store/people.js';
import { conversationKind, teamIdOf, tenantIdOf } from './conversation.js';

/** What a turn's activity says about who is speaking, where, and about whom. */

interface MentionEntity {
  type?: string;
  text?: string;
  mentioned?: { id?: string; name?: string };
}

const mentionsOf = (activity: Partial<Activity>): MentionEntity[] =>
  ((activity.entities ?? []) as MentionEntity[]).filter((e) => e.type === 'mention' && e.mentioned?.id);

export function callerOf(activity: Partial<Activity>): PersonSeen {
  const clientInfo = ((activity.entities ?? []) as Array<{ type?: string; timezone?: unknown }>).find((e) => e.type === 'clientInfo');
  const timeZone = typeof clientInfo?.timezone === 'string' && isValidTimeZone(clientInfo.timezone) ? clientInfo.timezone : null;
  return {
    teamsId: activity.from?.id ?? 'unknown',
    aadObjectId: activity.from?.aadObjectId ?? null,
    tenantId: tenantIdOf(activity),
    name: activity.from?.name ?? '',
    ...(timeZone ? { timeZone } : {}),
  };
}

export function mentionsBot(activity: Partial<Activity>): boolean {
  return mentionsOf(activity).some((m) => m.mentioned?.id === activity.recipient?.id);
}

/** People @mentioned in the message, other than the bot. */
export function mentionedPeople(activity: Partial<Activity>): Array<{ teamsId: string; name: string }> {
  return mentionsOf(activity)
    .filter((m) => m.mentioned!.id !== activity.recipient?.id)
    .map((m) => ({ teamsId: m.mentioned!.id!, name: m.mentioned!.name ?? '' }));
}

/** The text as typed, without the bot's mention (wherever it is and however the client wrote it). */
export function commandTextOf(activity: Partial<Activity>): string {
  let text = activity.text ?? '';
  for (const mention of mentionsOf(activity)) {
    if (mention.mentioned?.id === activity.recipient?.id && mention.text) text = text.split(mention.text).join(' ');
  }
  return normalizeCommandText(text);
}

/** For a message in a channel thread: the id of the thread's root post (undefined for a new post). */
export function threadRootOf(activity: Partial<Activity>): string | undefined {
  if (conversationKind(activity) !== 'channel') return undefined;
  const match = /;messageid=([^;]+)/.exec(activity.conversation?.id ?? '');
  const root = match?.[1];
  return root && root !== activity.id ? root : undefined;
}

export interface Where {
  /** The stored conversation reference the turn came from. */
  conversationRefId: number;
  kind: 'personal' | 'channel' | 'groupChat';
  teamId: string | null;
  teamName: string | null;
  /** Set when the turn happened in the thread under a ticket's card. */
  threadTicketId: number | undefined;
}

export function teamNameOf(activity: Partial<Activity>): string | null {
  return (activity.channelData as { team?: { name?: string } } | undefined)?.team?.name ?? null;
}

export { conversationKind, teamIdOf };
