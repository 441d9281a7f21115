import { TeamsInfo, type TurnContext } from 'botbuilder';
import type { Logger } from '../logger.js';
import type { PersonSeen } from '../store/people.js';
import { tenantIdOf } from './conversation.js';

/**
 * Who someone is, asked of Teams (the roster of the current team or chat): used for people the bot
 * has not met yet, such as an agent @mentioned in "assign 42 to @Megan".
 */
export async function lookupMember(context: TurnContext, teamsId: string, logger: Logger): Promise<PersonSeen | undefined> {
  try {
    const member = await TeamsInfo.getMember(context, teamsId);
    return {
      teamsId: member.id,
      aadObjectId: member.aadObjectId ?? null,
      tenantId: member.tenantId ?? tenantIdOf(context.activity),
      name: member.name ?? '',
      email: member.email ?? member.userPrincipalName ?? null,
    };
  } catch (error) {
    logger.warn({ err: error, teamsId }, 'could not look the member up in Teams');
    return undefined;
  }
}

/** Every member of the current team, page by page (the paged API; the old one is throttled hard). */
export async function teamMembers(context: TurnContext): Promise<PersonSeen[]> {
  const members: PersonSeen[] = [];
  let token: string | undefined;
  do {
    const page = await TeamsInfo.getPagedMembers(context, 500, token);
    for (const member of page.members) {
      members.push({
        teamsId: member.id,
        aadObjectId: member.aadObjectId ?? null,
        tenantId: member.tenantId ?? tenantIdOf(context.activity),
        name: member.name ?? '',
        email: member.email ?? member.userPrincipalName ?? null,
      });
    }
    token = page.continuationToken || undefined;
  } while (token);
  return members;
}
