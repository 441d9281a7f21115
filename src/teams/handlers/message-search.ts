import type { Application, TurnState } from '@microsoft/teams-ai';
import { ActivityTypes, type MessagingExtensionAttachment, type MessagingExtensionResult, type TurnContext } from 'botbuilder';
import { ADAPTIVE_CARD_CONTENT_TYPE } from '../../cards/adaptive-card.js';
import { ticketCard } from '../../cards/ticket-card.js';
import { ticketPreview } from '../../cards/ticket-preview.js';
import type { Db } from '../../store/database.js';
import { MAX_RESULTS, TicketSearch } from '../../services/ticket-search.js';
import { callerOf } from '../turn.js';
import type { TurnServices } from './turn-services.js';

/**
 * The compose box's ticket search (issue 16, a search message extension): Teams sends a
 * `composeExtension/query` invoke as the person types, and shows the attachments we answer with
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/messaging-extensions/how-to/search-commands/respond-to-search).
 * Picking one inserts its `content` into the message being written.
 *
 * The inserted card is always the requester view of the ticket (no internal notes, no agent actions):
 * whoever reads that conversation sees it, and a query does not say who they are (a chat with a
 * customer looks like a chat between agents), so the agent view is never inserted. An agent who wants
 * the agent card uses `show` where the bot is.
 */

/** The command's id in appPackage/manifest.json (composeExtensions[0].commands). */
export const SEARCH_COMMAND_ID = 'searchTickets';
/** Its text parameter; Teams sends `initialRun` instead when the command opens (manifest `initialRun`). */
const QUERY_PARAMETER = 'searchQuery';

export function registerMessageSearch(app: Application<TurnState>, deps: Pick<TurnServices, 'actors' | 'cards' | 'logger'> & { db: Db }): void {
  const search = new TicketSearch({ db: deps.db });
  // teams-ai flattens `parameters` with forEach and would throw on anything but a list of objects: such an invoke
  // (never sent by Teams; a hand-made one) gets a 400 that says why, before teams-ai reads it.
  app.addRoute(
    async (context) => isOurQuery(context) && !isListOfObjects((context.activity.value as { parameters?: unknown }).parameters ?? []),
    async (context) => {
      deps.logger.warn({ activityId: context.activity.id }, 'ticket search invoke with malformed parameters');
      await context.sendActivity({
        type: ActivityTypes.InvokeResponse,
        value: { status: 400, body: { composeExtension: { type: 'message', text: 'This search could not be read: its parameters must be a list of {name, value}.' } } },
      });
    },
    true,
  );
  app.messageExtensions.query(SEARCH_COMMAND_ID, async (context, _state, query) => {
    try {
      return await answer(context, deps, search, query);
    } catch (error) {
      // Teams shows a result of type "message" as a line of text: better than its generic failure.
      deps.logger.error({ err: error, activityId: context.activity.id }, 'ticket search failed');
      return { type: 'message', text: 'Ticket search is not available right now. Please try again in a moment.' };
    }
  });
}

async function answer(
  context: TurnContext,
  deps: Pick<TurnServices, 'actors' | 'cards'>,
  search: TicketSearch,
  query: { skip: unknown; count: unknown; parameters: Record<string, unknown> },
): Promise<MessagingExtensionResult> {
  const actor = await deps.actors.identify(callerOf(context.activity));
  // teams-ai passes the invoke's values through as sent: anything odd is read as "nothing typed" or the
  // default page, never thrown on.
  const typed = query.parameters[QUERY_PARAMETER];
  const text = typeof typed === 'string' ? typed : '';
  const found = await search.search(actor, { text, skip: numberOr(query.skip, 0), count: numberOr(query.count, MAX_RESULTS) });
  if (!found.ok) return { type: 'message', text: `Sorry, ${found.reason}.` };
  const attachments: MessagingExtensionAttachment[] = [];
  for (const ticket of found.value) {
    const data = await deps.cards.data(ticket.id, 'requester', undefined, ticket);
    if (!data) continue;
    attachments.push({ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: ticketCard(data), preview: ticketPreview(ticket, data.requesterName) });
  }
  return { type: 'result', attachmentLayout: 'list', attachments };
}

function isOurQuery(context: TurnContext): boolean {
  const { activity } = context;
  return activity.type === ActivityTypes.Invoke && activity.name === 'composeExtension/query' && (activity.value as { commandId?: unknown } | undefined)?.commandId === SEARCH_COMMAND_ID;
}

function isListOfObjects(value: unknown): boolean {
  return Array.isArray(value) && value.every((item) => item !== null && typeof item === 'object');
}

function numberOr(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : fallback;
}
