import { Application, TurnState, type TeamsAdapter } from '@microsoft/teams-ai';
import type { TurnContext } from 'botbuilder';
import type { Db } from '../store/database.js';
import { conversationToRemember } from './conversation.js';
import { onCardSubmit, registerCardActions } from './handlers/card-actions.js';
import { onAssistantSubmit, registerAssistant } from './handlers/assistant.js';
import { isAssistantVerb } from '../cards/assistant-cards.js';
import { registerDialogs } from './handlers/dialogs.js';
import { registerInstallationHandlers } from './handlers/installation.js';
import { registerMessageActions } from './handlers/message-actions.js';
import { registerMessageHandlers } from './handlers/messages.js';
import { registerPeopleSearch } from './handlers/people-search.js';
import { registerMessageSearch } from './handlers/message-search.js';
import type { TurnServices } from './handlers/turn-services.js';
import { SqlStorage } from './sql-storage.js';

export interface BotDeps extends TurnServices {
  adapter: TeamsAdapter;
  botAppId: string | undefined;
  db: Db;
  clock: () => number;
  /** After a turn queued outbox rows outside a change (a ticket filed from a message): the worker looks at once. */
  onEnqueued?: () => void;
}

/** The teams-ai Application with every route the bot answers. No AI planner: routes are explicit. */
export function createBot(deps: BotDeps): Application<TurnState> {
  const { logger, conversations } = deps;
  const app = new Application<TurnState>({
    adapter: deps.adapter,
    botAppId: deps.botAppId ?? '',
    storage: new SqlStorage(deps.db, deps.clock),
    removeRecipientMention: true,
    // The typing timer is one field shared by concurrent turns (teams-ai's Application,
    // https://github.com/microsoft/teams-ai/blob/main/js/packages/teams-ai/src/Application.ts); our
    // turns answer in milliseconds, so it would only add connector calls.
    startTypingTimer: false,
    longRunningMessages: false,
  });

  // First contact: a message from a conversation we have not stored (installed before we were, or the
  // install event was lost) is remembered so proactive cards can reach it later.
  app.turn('beforeTurn', async (context: TurnContext) => {
    if (context.activity.type === 'message' && context.activity.conversation?.id && context.activity.serviceUrl) {
      await conversations.remember(conversationToRemember(context.activity));
    }
    return true;
  });

  registerInstallationHandlers(app, { conversations, logger });
  // Before the card actions: their catch-all answers every verb it does not know.
  registerAssistant(app, deps);
  registerCardActions(app, deps);
  registerDialogs(app, deps);
  registerPeopleSearch(app, deps);
  registerMessageActions(app, deps);
  registerMessageSearch(app, deps);
  registerMessageHandlers(app, { ...deps, onCardSubmit: (context, value) => (isAssistantVerb(value.verb) ? onAssistantSubmit(context, deps, value) : onCardSubmit(context, deps, value)) });

  app.error(async (context: TurnContext, error: Error) => {
    logger.error(
      { err: error, activityId: context.activity.id, type: context.activity.type, conversationId: context.activity.conversation?.id },
      'turn failed',
    );
    if (context.activity.type === 'message') {
      try {
        await context.sendActivity('Sorry, something went wrong on my side. Please try again in a moment.');
      } catch (sendError) {
        logger.warn({ err: sendError }, 'could not tell the user about the failed turn');
      }
    }
  });

  return app;
}
