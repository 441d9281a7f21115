import type { Application, TeamsAdapter, TurnState } from '@microsoft/teams-ai';
import type { Request, Response } from 'restify';
import type { MessageEndpoint } from '../http/server.js';
import type { Logger } from '../logger.js';

/** Runs one inbound request through the adapter (JWT validation) and the bot's routes. */
export function createMessageEndpoint(adapter: TeamsAdapter, app: Application<TurnState>, logger: Logger): MessageEndpoint {
  return {
    async process(req: Request, res: Response) {
      await adapter.process(req, res, async (context) => {
        const handled = await app.run(context);
        if (!handled && context.activity.type === 'invoke') {
          // The adapter answers an unhandled invoke with 501; say which one, so a new Teams feature or a
          // stale card shows up in the logs rather than as a silent failure in the client.
          logger.warn({ invoke: context.activity.name ?? '(no name)', activityId: context.activity.id }, 'unsupported invoke');
        }
      });
    },
  };
}
