import { audienceOf, deskRefusal, isAgent, priorityAllowed, viewFor, type Audience, type DeskAction, type Role } from '../domain/roles.js';
import { PRIORITIES, type Priority } from '../domain/tickets.js';
import type { Db } from '../store/database.js';
import { findPersonByIdentity } from '../store/people.js';
import { isDeskChannel, isSupportTeam } from '../store/support-teams.js';
import type { Actor, ActorDirectory } from './actors.js';

/**
 * The one road for "may this person do X" and "what may this conversation see". Every surface (typed
 * commands, card buttons, thread replies, message extensions, webhooks) asks here, through the services
 * that call it, so a rule changes in one place. The rules themselves are pure (src/domain/roles.ts);
 * this adds what they need from the store: who a personal chat is with, which teams and channels belong
 * to the desk.
 */

/** A conversation as the desk stores it: enough to tell its audience. */
export interface ConversationSeen {
  /** The stored conversation reference's id. */
  id: number;
  kind: string;
  teamId: string | null;
  /** Personal chats: who the chat is with. */
  userAadObjectId?: string | null;
  userTeamsId?: string | null;
  /** Personal chats: the role of who it is with, when the caller already knows it (the turn's actor). */
  ownerRole?: Role;
}

export class AccessPolicy {
  constructor(
    private readonly db: Db,
    private readonly actors: Pick<ActorDirectory, 'roleOf'>,
    private readonly options: { requesterMaxPriority: Priority } = { requesterMaxPriority: 'P2' },
  ) {}

  /** The priorities the actor may give a new ticket. */
  prioritiesFor(actor: Actor): Priority[] {
    return PRIORITIES.filter((p) => priorityAllowed(actor.role, p, this.options.requesterMaxPriority, PRIORITIES) === p);
  }

  /** Why the actor may not do a desk-wide action, or undefined. */
  deskRefusal(actor: Actor, action: DeskAction): string | undefined {
    return deskRefusal(actor.role, action);
  }

  /** Who the conversation's content is for, whoever is looking. */
  async audienceOf(conversation: ConversationSeen): Promise<Audience> {
    switch (conversation.kind) {
      case 'personal':
        return audienceOf({ kind: 'personal', ownerRole: conversation.ownerRole ?? (await this.ownerRole(conversation)) });
      case 'channel': {
        const supportTeam = conversation.teamId !== null && (await isSupportTeam(this.db, conversation.teamId));
        // A support team's channel needs no second look.
        const deskChannel = !supportTeam && (await isDeskChannel(this.db, conversation.id));
        return audienceOf({ kind: 'channel', supportTeam, deskChannel });
      }
      default:
        return audienceOf({ kind: 'groupChat' });
    }
  }

  /** What `actor` is shown in `conversation`: the agent view only for an agent in an agents' conversation. */
  async viewFor(actor: Actor, conversation: ConversationSeen): Promise<Audience> {
    // Someone who is not an agent sees the requester view anywhere: no need to look at the conversation.
    if (!isAgent(actor.role)) return 'requester';
    return viewFor(actor.role, await this.audienceOf(conversation));
  }

  private async ownerRole(conversation: ConversationSeen): Promise<Role | undefined> {
    const person = await findPersonByIdentity(this.db, { aadObjectId: conversation.userAadObjectId ?? null, teamsId: conversation.userTeamsId ?? null });
    return person ? this.actors.roleOf(person) : undefined;
  }
}
