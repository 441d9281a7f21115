import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import https from 'node:https';

/**
 * Per-attempt cancellation for client libraries that take an `http.Agent` but no AbortSignal
 * (@hubspot/api-client sends with node-fetch and passes only `agent`). The attempt runs inside
 * `withSignal`; every request the library starts there is destroyed, socket and all, when the signal
 * aborts, so a timed-out call does not linger on a connection the peer never answers.
 *
 * `addRequest` is how an agent is handed each request; proxy agents (agent-base) hook it the same way.
 */

const current = new AsyncLocalStorage<AbortSignal>();

export function withSignal<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return current.run(signal, work);
}

type AddRequest = (req: http.ClientRequest, options: unknown) => void;

function cancelOnAbort(req: http.ClientRequest): void {
  const signal = current.getStore();
  if (!signal) return;
  if (signal.aborted) {
    req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    return;
  }
  const abort = () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', abort, { once: true });
  req.once('close', () => signal.removeEventListener('abort', abort));
}

/** A keep-alive agent for `protocol` ('http:' or 'https:') whose requests obey the current attempt's signal. */
export function cancellableAgent(protocol: string): http.Agent {
  const agent = protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const withAgent = agent as unknown as { addRequest: AddRequest };
  const addRequest = withAgent.addRequest.bind(agent);
  withAgent.addRequest = (req, options) => {
    cancelOnAbort(req);
    addRequest(req, options);
  };
  return agent;
}
