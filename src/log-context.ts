import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The correlation id of the work in progress, carried by async context so every log line written for
 * it says which it was, without passing it through every call: `activity:<id>` for a request from
 * Teams, `mail:<Message-ID>` for an incoming email, `ticket:<reference>` for timers and sweeps. Work
 * queued in the outbox stores the id of the work that queued it, and the worker that sends it later
 * logs under the same id, so one id leads from the chat message to the card it caused.
 */
const storage = new AsyncLocalStorage<string>();

/** Runs `work` with `correlationId` on its log lines (and on whatever it queues). */
export function withCorrelation<T>(correlationId: string | null | undefined, work: () => T): T {
  return correlationId ? storage.run(correlationId, work) : work();
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore();
}

/** For pino's `mixin`: the field added to every log line written inside a correlated piece of work. */
export function correlationFields(): { correlationId?: string } {
  const id = storage.getStore();
  return id ? { correlationId: id } : {};
}

/** Correlation ids hold ids from outside (activity ids, Message-IDs): bounded and printable. */
export function correlationId(kind: 'activity' | 'mail' | 'ticket' | 'reminder' | 'escalation', id: string | number): string {
  return `${kind}:${String(id).replace(/[^\x21-\x7e]/g, '').slice(0, 200)}`;
}
