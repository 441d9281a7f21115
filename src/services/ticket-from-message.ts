import { isAgent } from '../domain/roles.js';
import { messageLinksText, type TeamsMessage } from '../domain/teams-message.js';
import type { TicketType } from '../domain/ticket-reference.js';
import type { Priority, Ticket } from '../domain/tickets.js';
import type { Logger } from '../logger.js';
import { findConversation, findPersonalConversation, type StoredConversation } from '../store/conversation-references.js';
import { inTransaction, type Db } from '../store/database.js';
import { enqueue } from '../store/outbox.js';
import { findPersonByIdentity } from '../store/people.js';
import type { Actor, Person } from './actors.js';
import type { ConversationDirectory } from './conversation-directory.js';
import type { Result } from './result.js';
import type { TicketService } from './tickets.js';

/**
 * A ticket from a Teams message (the "Create ticket" message action): opened through TicketService
 * like any other, for the message's author or whoever an agent picks, with the message's files and
 * the link back to it kept on the ticket. Its card goes where the message is, as a reply to it, when
 * the bot is in that conversation (a message action works in any chat, installed or not); otherwise
 * to the caller's chat with the bot. Either way it is routed like any new ticket: the triage channel
 * gets a copy, and the critical channel too for a P1.
 */

/** Where the message is, as the turn saw it. */
export interface MessagePlace {
  /** The conversation id as stored (a channel's id without `;messageid=`). */
  conversationId: string;
  kind: 'personal' | 'channel' | 'groupChat';
  teamId: string | null;
}

export interface TicketFromMessageInput {
  subject: string;
  description: string;
  type: TicketType;
  priority: Priority;
  requester: Person;
  /** The message it is made from; undefined from the compose box or command box. */
  message: TeamsMessage | undefined;
  place: MessagePlace;
}

/** Where the new ticket's card went, for the answer to the person who filed it. */
export type CardPlace = 'reply' | 'conversation' | 'personal' | 'triage' | 'nowhere';

export class TicketFromMessage {
  constructor(
    private readonly deps: {
      db: Db;
      tickets: TicketService;
      conversations: Pick<ConversationDirectory, 'channelFor'>;
      clock: () => number;
      logger: Logger;
      /** Called after the commit, so the outbox worker sends the cards at once rather than at its next look. */
      onEnqueued?: () => void;
    },
  ) {}

  /** Why the actor may not file for this requester, or undefined: anyone files for themselves, only agents for others. */
  refusalToFileFor(actor: Actor, requester: { self: boolean; name: string }): string | undefined {
    if (requester.self || isAgent(actor.role)) return undefined;
    return `Only support agents can file a ticket for someone else. Choose yourself as the requester, or ask an agent to file it for ${requester.name}.`;
  }

  /** Someone the desk already knows, by Entra object id. */
  knownPerson(aadObjectId: string): Promise<Person | undefined> {
    return findPersonByIdentity(this.deps.db, { aadObjectId, teamsId: null });
  }

  /** Whether the bot can post in the conversation: stored, not removed, not refused by Teams. */
  async installedIn(place: MessagePlace): Promise<StoredConversation | undefined> {
    const stored = await findConversation(this.deps.db, place.conversationId);
    return stored && !stored.removed && !stored.staleReason ? stored : undefined;
  }

  async create(actor: Actor, input: TicketFromMessageInput): Promise<Result<{ ticket: Ticket; cardIn: CardPlace; triage: boolean }>> {
    const refused = this.refusalToFileFor(actor, { self: input.requester.id === actor.person.id, name: input.requester.name });
    if (refused) return { ok: false, reason: refused, denied: true };
    const here = await this.installedIn(input.place);
    const triage = await this.deps.conversations.channelFor('triage');
    const critical = input.priority === 'P1' ? await this.deps.conversations.channelFor('critical') : undefined;
    const message = input.message;
    // In a channel a reply goes under the thread's first message (a reply to a reply is not a thing there).
    const replyTo = message?.id ? (input.place.kind === 'channel' ? (message.replyToId ?? message.id) : message.id) : undefined;
    const personal = here ? undefined : await findPersonalConversation(this.deps.db, { aadObjectId: actor.person.aadObjectId, teamsId: actor.person.teamsId });
    const cardIn: CardPlace = here ? (replyTo ? 'reply' : 'conversation') : personal ? 'personal' : triage !== undefined ? 'triage' : 'nowhere';
    // A triage channel that is this very conversation gets its card there, once.
    const triageCopy = triage !== undefined && triage !== here?.id;
    const postTo = [...(here && !replyTo ? [here.id] : []), ...(personal ? [personal.id] : []), ...(triageCopy ? [triage] : [])];
    const links = message ? messageLinksText(message) : '';
    const description = [input.description.trim(), links].filter(Boolean).join('\n\n');
    const origin = message
      ? {
          teamsMessage: {
            id: message.id,
            conversationId: input.place.conversationId,
            ...(message.link ? { link: message.link } : {}),
            ...(message.author ? { author: message.author } : {}),
            ...(message.files.length > 0 ? { files: message.files } : {}),
          },
        }
      : undefined;

    const result = await inTransaction(this.deps.db, async (tx) => {
      const created = await this.deps.tickets.create(
        { actor, surface: 'card' },
        {
          type: input.type,
          subject: input.subject,
          description,
          priority: input.priority,
          teamId: input.place.kind === 'channel' ? input.place.teamId : null,
          source: input.place.kind === 'channel' ? 'channel' : 'chat',
          postTo,
          ...(critical !== undefined ? { criticalChannel: critical } : {}),
          ...(input.requester.id !== actor.person.id ? { requesterId: input.requester.id } : {}),
          ...(origin ? { origin } : {}),
        },
        tx,
      );
      // The reply under the message commits with the ticket: the card is rendered when it is sent, for
      // that conversation's audience (the requester's view in a group chat or a channel outside the desk).
      if (created.ok && here && replyTo) {
        await enqueue(
          tx,
          [{ idempotencyKey: `ticket:${created.value.id}:created:reply:${here.id}`, operation: 'reply', conversationRefId: here.id, targetActivityId: replyTo, ticketId: created.value.id, cardKind: 'ticket', activity: null }],
          this.deps.clock(),
        );
      }
      return created;
    });
    if (!result.ok) return result;
    this.deps.onEnqueued?.();
    this.deps.logger.info({ ticket: result.value.reference, source: 'message-action', priority: result.value.priority, cardIn, files: message?.files.length ?? 0 }, 'ticket created from a message');
    return { ok: true, value: { ticket: result.value, cardIn, triage: triageCopy }, notice: result.notice };
  }
}
