import type { Application, TurnState } from '@microsoft/teams-ai';
import type { Activity, TurnContext } from 'botbuilder';
import { cardMessage } from '../../cards/adaptive-card.js';
import { helpCard, type CommandHelp } from '../../cards/help-card.js';
import { isHelpRequest, normalizeCommandText } from '../../domain/command-text.js';
import { conversationKind } from '../conversation.js';

/** What every caller may do today; later commands add their own lines. */
export const BASIC_COMMANDS: readonly CommandHelp[] = [{ usage: 'help', description: 'Show this list.' }];

export function registerHelpHandlers(app: Application<TurnState>): void {
  const sendHelp = async (context: TurnContext) => {
    const card = helpCard(BASIC_COMMANDS, conversationKind(context.activity));
    await context.sendActivity(cardMessage(card, 'What Service Desk can do') as Partial<Activity>);
  };

  app.message(async (context) => isHelpRequest(normalizeCommandText(context.activity.text)), sendHelp);

  // Anything else typed: say so, and point at help, rather than staying silent.
  app.message(
    async (context) => normalizeCommandText(context.activity.text).length > 0,
    async (context) => {
      const said = normalizeCommandText(context.activity.text);
      const shown = said.length > 40 ? `${said.slice(0, 40)}…` : said;
      await context.sendActivity(`I don't know "${shown}" yet. Type **help** to see what I can do.`);
    },
  );
}
