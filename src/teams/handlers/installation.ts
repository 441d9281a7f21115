import type { Application, TurnState } from '@microsoft/teams-ai';
import type { Activity, TurnContext } from 'botbuilder';
import { cardMessage } from '../../cards/adaptive-card.js';
import { personalWelcomeCard, teamWelcomeCard } from '../../cards/welcome-card.js';
import type { Logger } from '../../logger.js';
import type { ConversationDirectory } from '../../services/conversation-directory.js';
import { conversationKind, conversationToRemember, teamIdOf } from '../conversation.js';

interface TeamChannelData {
  team?: { name?: string };
}

/**
 * Install and uninstall, in every scope. Teams sends both an installationUpdate and a conversationUpdate
 * when the bot is added; whichever comes first stores the conversation and says hello, the other finds
 * it stored and stays quiet, so the welcome is never doubled.
 */
export function registerInstallationHandlers(
  app: Application<TurnState>,
  deps: { conversations: ConversationDirectory; logger: Logger },
): void {
  const { conversations } = deps;

  const welcomeIfNew = async (context: TurnContext) => {
    const { isNew } = await conversations.remember(conversationToRemember(context.activity), { force: true });
    if (isNew) await context.sendActivity(welcomeFor(context.activity));
  };

  app.activity('installationUpdate', async (context) => {
    const action = (context.activity as Activity & { action?: string }).action;
    if (action === 'add' || action === 'add-upgrade') {
      if (action === 'add') await welcomeIfNew(context);
      else await conversations.remember(conversationToRemember(context.activity), { force: true });
    } else if (action === 'remove') {
      await conversations.forget(forgetTarget(context.activity));
    }
  });

  app.conversationUpdate('membersAdded', async (context) => {
    const botId = context.activity.recipient?.id;
    if (context.activity.membersAdded?.some((m) => m.id === botId)) await welcomeIfNew(context);
  });

  app.conversationUpdate('membersRemoved', async (context) => {
    const botId = context.activity.recipient?.id;
    if (context.activity.membersRemoved?.some((m) => m.id === botId)) {
      await conversations.forget(forgetTarget(context.activity));
    }
  });
}

function forgetTarget(activity: Activity) {
  const remembered = conversationToRemember(activity);
  return { conversationId: remembered.conversationId, teamId: remembered.kind === 'channel' ? teamIdOf(activity) : null };
}

function welcomeFor(activity: Activity): Partial<Activity> {
  const kind = conversationKind(activity);
  if (kind === 'personal') {
    const firstName = activity.from?.name?.split(/\s+/)[0];
    const card = personalWelcomeCard(firstName || undefined);
    return cardMessage(card, card.fallbackText) as Partial<Activity>;
  }
  const teamName = (activity.channelData as TeamChannelData | undefined)?.team?.name;
  const card = teamWelcomeCard(teamName);
  return cardMessage(card, card.fallbackText) as Partial<Activity>;
}
