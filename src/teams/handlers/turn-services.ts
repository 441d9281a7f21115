import type { TurnContext } from 'botbuilder';
import { isAgent } from '../../domain/roles.js';
import type { Logger } from '../../logger.js';
import type { AccessPolicy } from '../../services/access.js';
import type { Actor, ActorDirectory, Person } from '../../services/actors.js';
import type { CardCopyRecorder } from '../../services/card-copies.js';
import type { ConversationDirectory } from '../../services/conversation-directory.js';
import type { EscalationService } from '../../services/escalations.js';
import type { ReminderService } from '../../services/reminders.js';
import type { SlaService } from '../../services/sla.js';
import type { TicketCards } from '../../services/ticket-cards.js';
import type { TicketService } from '../../services/tickets.js';
import type { RequestConversations } from '../../services/request-conversations.js';
import type { TicketQueries } from '../../services/ticket-queries.js';
import type { CommandRunner, TurnHelpers } from '../command-runner.js';
import type { Assistant } from '../../services/assistant.js';
import { lookupMember, teamMembers } from '../members.js';
import { mentionedPeople } from '../turn.js';
import type { FileServices } from './files.js';

/** What the turn handlers share: the services, and the per-turn helpers that need the turn context. */
export interface TurnServices {
  logger: Logger;
  conversations: ConversationDirectory;
  actors: ActorDirectory;
  access: AccessPolicy;
  tickets: TicketService;
  sla: SlaService;
  escalations: EscalationService;
  reminders: ReminderService;
  cards: TicketCards;
  /** Records the ticket cards turns post, so later changes update them in place. */
  cardCopies: CardCopyRecorder;
  runner: CommandRunner;
  /** Files on tickets (kept from messages, listed, sent back); without it files are ignored. */
  fileServices?: FileServices;
  /** What a requester's personal chat is about (free text as requests); without it free text gets the command suggestion. */
  requests?: RequestConversations;
  /** A requester's open tickets, for reading their free text. */
  queries?: TicketQueries;
  /** The optional AI assistant (AI_ENDPOINT); undefined when it is off. */
  assistant?: Assistant;
  helpersFor(context: TurnContext, actor: Actor): TurnHelpers;
}

export function turnHelpers(context: TurnContext, actor: Actor, deps: Pick<TurnServices, 'actors' | 'conversations' | 'logger'>): TurnHelpers {
  const asAgent = async (person: Person): Promise<{ ok: true; person: Person } | { ok: false; reason: string }> =>
    isAgent(await deps.actors.roleOf(person)) ? { ok: true, person } : { ok: false, reason: `${person.name} is not a support agent, so tickets can't be assigned to them.` };

  return {
    async resolveAssignee(text) {
      const wanted = text.replace(/^@/, '').trim();
      if (/^(me|myself)$/i.test(wanted)) return asAgent(actor.person);
      // "@Megan Bowen": the mention carries the person's Teams id; look them up if we have not met.
      const mentions = mentionedPeople(context.activity);
      const mention = mentions.find((m) => m.name.toLowerCase() === wanted.toLowerCase()) ?? (text.startsWith('@') ? mentions[0] : undefined);
      if (mention) {
        const known = await deps.actors.personByTeamsId(mention.teamsId);
        if (known) return asAgent(known);
        const seen = await lookupMember(context, mention.teamsId, deps.logger);
        if (!seen) return { ok: false, reason: `I couldn't find ${mention.name || 'that person'} in this conversation.` };
        return asAgent((await deps.actors.identify(seen)).person);
      }
      const matches = await deps.actors.agentsNamed(wanted);
      if (matches.length === 1) return { ok: true, person: matches[0]! };
      if (matches.length > 1) return { ok: false, reason: `Several agents match “${wanted}”: ${matches.slice(0, 5).map((m) => m.name).join(', ')}. Mention the one you mean.` };
      return { ok: false, reason: `No agent matches “${wanted}”. Mention them (@name), or ask an admin to add them as an agent.` };
    },
    teamMembers: () => teamMembers(context),
    channelFor: (role) => deps.conversations.channelFor(role),
  };
}
