import { TurnContext, type Activity, type CloudAdapter, type ConversationReference } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import { parseRetryAfter } from '../domain/backoff.js';
import { DeliveryError, type Delivery, type DeliveryRequest } from '../workers/delivery.js';
import { threadConversationId } from './conversation.js';

/**
 * Delivers outbox messages through the Bot Framework connector. Connector failures become
 * DeliveryErrors here, at the boundary, so the worker decides retries on kinds rather than on HTTP
 * details. (The connector client already retries 429/503 after Retry-After and 5xx with backoff, up to
 * three times, inside one call; what reaches us has outlived that.)
 */
export class ConnectorDelivery implements Delivery {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly botAppId: string | undefined,
    private readonly clock: () => number = Date.now,
    /** A send that hangs is given up on (and retried later) after this long, so it never holds a worker. */
    private readonly timeoutMs = 15_000,
  ) {}

  async deliver(request: DeliveryRequest): Promise<{ activityId: string | undefined }> {
    const reference = request.target.reference as Partial<ConversationReference>;
    let activityId: string | undefined;
    let failure: unknown;
    await this.adapter.continueConversationAsync(this.botAppId ?? '', reference, async (context) => {
      // Errors are caught here: thrown out of this callback they would go to onTurnError and be lost.
      try {
        const client = context.turnState.get<ConnectorClient>(context.adapter.ConnectorClientKey);
        activityId = await this.call(client, reference, request);
      } catch (error) {
        failure = error;
      }
    });
    if (failure !== undefined) throw toDeliveryError(failure, this.clock());
    return { activityId };
  }

  private async call(
    client: ConnectorClient,
    reference: Partial<ConversationReference>,
    request: DeliveryRequest,
  ): Promise<string | undefined> {
    const activity = TurnContext.applyConversationReference({ ...request.activity } as Partial<Activity>, reference) as Activity;
    const conversationId = request.target.conversationId;
    const options = { timeout: this.timeoutMs };
    switch (request.operation) {
      case 'send': {
        delete activity.replyToId;
        activity.conversation = { ...activity.conversation, id: conversationId };
        return (await client.conversations.sendToConversation(conversationId, activity, options)).id;
      }
      case 'reply': {
        const root = requireTarget(request);
        const threadId = reference.conversation?.conversationType === 'channel' ? threadConversationId(conversationId, root) : conversationId;
        activity.conversation = { ...activity.conversation, id: threadId };
        activity.replyToId = root;
        return (await client.conversations.replyToActivity(threadId, root, activity, options)).id;
      }
      case 'update': {
        const target = requireTarget(request);
        activity.id = target;
        activity.conversation = { ...activity.conversation, id: conversationId };
        delete activity.replyToId;
        await client.conversations.updateActivity(conversationId, target, activity, options);
        return target;
      }
    }
  }
}

function requireTarget(request: DeliveryRequest): string {
  if (!request.targetActivityId) {
    throw new DeliveryError('permanent', `${request.operation} needs the id of the activity it refers to`);
  }
  return request.targetActivityId;
}

interface ConnectorErrorShape {
  statusCode?: number;
  code?: string;
  message?: string;
  response?: { status?: number; headers?: { get?(name: string): string | undefined | null }; bodyAsText?: string | null };
}

/** Maps what the connector client throws onto the kinds the outbox worker acts on. */
export function toDeliveryError(error: unknown, now: number): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const e = (error ?? {}) as ConnectorErrorShape;
  const status = e.statusCode ?? e.response?.status;
  const retryAfterMs = parseRetryAfter(e.response?.headers?.get?.('retry-after') ?? undefined, now);
  const code = errorCode(e.response?.bodyAsText) ?? (typeof e.code === 'string' ? e.code : undefined);
  const message = e.message ?? String(error);
  const details = { status, code, retryAfterMs };
  if (status === undefined) return new DeliveryError('transient', message, details, { cause: error });
  if (status === 429) return new DeliveryError('throttled', message, details, { cause: error });
  if (status === 403) return new DeliveryError('forbidden', message, details, { cause: error });
  if (status === 404) return new DeliveryError('not-found', message, details, { cause: error });
  if (status === 401 || status === 408 || status === 412 || status >= 500) {
    return new DeliveryError('transient', message, details, { cause: error });
  }
  return new DeliveryError('permanent', message, details, { cause: error });
}

function errorCode(body: string | null | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}
