import type { Application, TurnState } from '@microsoft/teams-ai';
import type { Request, Response } from 'restify';
import type { MessageEndpoint } from '../http/server.js';
import type { Logger } from '../logger.js';
import type { ServiceDeskAdapter } from './adapter.js';

/** Runs one inbound request through the adapter (JWT validation) and the bot's routes. */
export function createMessageEndpoint(adapter: ServiceDeskAdapter, app: Application<TurnState>, logger: Logger): MessageEndpoint {
  return {
    async process(req: Request, res: Response) {
      const body = req.body as Record<string, unknown>;
      const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
      try {
        const outcome = await adapter.handle(body, authorization, async (context) => {
          const handled = await app.run(context);
          if (!handled && context.activity.type === 'invoke') {
            // The adapter answers an unhandled invoke with 501; say which one, so a new Teams feature or a
            // stale card shows up in the logs rather than as a silent failure in the client.
            logger.warn({ invoke: context.activity.name ?? '(no name)', activityId: context.activity.id }, 'unsupported invoke');
          }
        });
        if (outcome.kind === 'unauthorized') {
          logger.warn({ reason: outcome.reason, activityId: body.id, type: body.type }, 'refused an activity: not authenticated');
          res.send(401, { error: 'unauthorized', reason: outcome.reason });
          return;
        }
        if (outcome.kind === 'refused') {
          // The serviceUrl is logged by origin only: it names the host we refused to trust, nothing more.
          logger.warn({ reason: outcome.reason, status: outcome.status, activityId: body.id, type: body.type, channelId: body.channelId, serviceOrigin: originOf(body.serviceUrl) }, 'refused an activity');
          res.send(outcome.status, { error: outcome.status === 401 ? 'unauthorized' : 'forbidden', reason: outcome.reason });
          return;
        }
        if (outcome.body === undefined) res.send(outcome.status);
        else res.send(outcome.status, outcome.body);
      } catch (error) {
        logger.error({ err: error, activityId: body.id, type: body.type }, 'could not process an activity');
        res.send(500, { error: 'internal error; the channel will retry' });
      }
    },
  };
}

function originOf(url: unknown): string | undefined {
  try {
    return typeof url === 'string' ? new URL(url).origin.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}
