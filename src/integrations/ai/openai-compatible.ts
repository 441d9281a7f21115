import type { z } from 'zod';
import { OutboundPeer, type PeerError, type PeerVendor } from '../outbound/peer.js';

/**
 * Chat completions on any OpenAI-compatible API: OpenAI itself, Azure OpenAI's v1 API
 * (`https://<resource>.openai.azure.com/openai/v1`, the deployment name as `model`, the key in an
 * `api-key` header; "Azure OpenAI API version lifecycle",
 * https://learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle), or a local server such
 * as Ollama (`http://127.0.0.1:11434/v1`). One request shape: POST {base}/chat/completions with
 * `response_format: { type: "json_object" }` ("JSON mode",
 * https://platform.openai.com/docs/api-reference/chat/create#chat-create-response_format), so the
 * answer's message content is a JSON object we validate with the caller's zod schema.
 *
 * A model's words are never trusted: content that is not JSON, or JSON that fails the schema, is an
 * `invalid` AiError (the feature shows "no suggestion"), never a crash. Each call is one attempt with
 * its own timeout (the turn waiting for it must answer Teams within 5 s), through OutboundPeer so the
 * request and its socket are cancelled when the time is up.
 */

export type AiFailure = 'timeout' | 'unavailable' | 'refused' | 'throttled' | 'invalid';

export class AiError extends Error implements PeerError {
  override readonly name = 'AiError';
  constructor(
    readonly failure: AiFailure,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
  /** A turn never waits for a second attempt: its time is the assistant's whole budget. */
  get retryable(): boolean {
    return false;
  }
}

export interface AiClientConfig {
  /** Base URL ending before `/chat/completions`, e.g. https://api.openai.com/v1. */
  endpoint: string;
  apiKey: string | undefined;
  model: string;
  /** `api-key` for Azure OpenAI keys; `bearer` (Authorization: Bearer) for everyone else. */
  auth: 'bearer' | 'api-key';
}

export interface ChatRequest {
  system: string;
  user: string;
  /** The most the answer may use (`max_tokens`): summaries and drafts are short. */
  maxTokens: number;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export type ChatAnswer<T> = { ok: true; value: T; usage: Usage; model: string } | { ok: false; error: AiError; usage: Usage; model: string };

const NO_USAGE: Usage = { promptTokens: 0, completionTokens: 0 };

const AI_ERRORS: PeerVendor<AiError> = {
  toError: (error, what) => {
    if (error instanceof AiError) return error;
    const name = (error as { name?: unknown })?.name;
    if (name === 'AbortError' || name === 'TimeoutError') return new AiError('timeout', `the assistant did not answer in time to ${what}`);
    return new AiError('unavailable', `the assistant could not be reached to ${what}`, {}, { cause: error });
  },
  timedOut: (what) => new AiError('timeout', `the assistant did not answer in time to ${what}`),
  paused: (what, retryAfterMs) => new AiError('throttled', `the assistant asked us to wait ${Math.ceil(retryAfterMs / 1000)} s; could not ${what}`, { status: 429, retryAfterMs }),
};

export class OpenAiCompatibleClient {
  private readonly peer: OutboundPeer<AiError>;
  private readonly url: string;

  constructor(
    private readonly config: AiClientConfig,
    private readonly timeoutMs: number,
  ) {
    this.url = `${config.endpoint.replace(/\/+$/, '')}/chat/completions`;
    // One attempt; a throttled endpoint pauses later calls for the time it asked, without waiting inline.
    // No concurrency gate: a call queued behind slow ones would outlive the turn that waits for it.
    this.peer = new OutboundPeer('ai', AI_ERRORS, { attempts: 1, timeoutMs, maxInlineWaitMs: 0, backoff: { baseMs: 0, capMs: 0, jitter: 0 }, defaultThrottleMs: 5_000 });
  }

  get model(): string {
    return this.config.model;
  }

  /** One chat completion whose answer must be a JSON object matching `schema`. */
  async chatJson<T>(what: string, request: ChatRequest, schema: z.ZodType<T>, signal?: AbortSignal): Promise<ChatAnswer<T>> {
    let usage = NO_USAGE;
    let model = this.config.model;
    // The whole call, not just the request, ends at the deadline: the turn answers without us after it.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    signal = signal ? AbortSignal.any([signal, deadline]) : deadline;
    try {
      const body = await untilAborted(signal, this.peer.call(what, async (attemptSignal) => {
        const response = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...this.authHeader() },
          body: JSON.stringify({
            model: this.config.model,
            messages: [
              { role: 'system', content: request.system },
              { role: 'user', content: request.user },
            ],
            response_format: { type: 'json_object' },
            max_tokens: request.maxTokens,
            temperature: 0.2,
          }),
          signal: signal ? AbortSignal.any([signal, attemptSignal]) : attemptSignal,
        });
        const text = await response.text();
        if (!response.ok) throw httpError(response.status, response.headers.get('retry-after'), what);
        return text;
      }));
      const parsed = parseCompletion(body);
      usage = parsed.usage;
      model = parsed.model ?? model;
      if (parsed.content === undefined) return { ok: false, error: new AiError('invalid', `the assistant's answer to ${what} had no message`), usage, model };
      let json: unknown;
      try {
        json = JSON.parse(stripFence(parsed.content));
      } catch {
        return { ok: false, error: new AiError('invalid', `the assistant's answer to ${what} was not JSON`), usage, model };
      }
      const checked = schema.safeParse(json);
      if (!checked.success) return { ok: false, error: new AiError('invalid', `the assistant's answer to ${what} did not have the expected fields`), usage, model };
      return { ok: true, value: checked.data, usage, model };
    } catch (error) {
      const failure = signal?.aborted ? new AiError('timeout', `the assistant did not answer in time to ${what}`) : AI_ERRORS.toError(error, what);
      return { ok: false, error: failure, usage, model };
    }
  }

  private authHeader(): Record<string, string> {
    if (!this.config.apiKey) return {};
    return this.config.auth === 'api-key' ? { 'api-key': this.config.apiKey } : { authorization: `Bearer ${this.config.apiKey}` };
  }
}

/** `work`, or a rejection as soon as `signal` aborts, whichever comes first. */
function untilAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The parts of a chat completion we read (https://platform.openai.com/docs/api-reference/chat/object). */
function parseCompletion(body: string): { content: string | undefined; usage: Usage; model: string | undefined } {
  let data: any;
  try {
    data = JSON.parse(body);
  } catch {
    return { content: undefined, usage: NO_USAGE, model: undefined };
  }
  const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.round(n) : 0);
  const usage = { promptTokens: count(data?.usage?.prompt_tokens), completionTokens: count(data?.usage?.completion_tokens) };
  const content = data?.choices?.[0]?.message?.content;
  return { content: typeof content === 'string' ? content : undefined, usage, model: typeof data?.model === 'string' ? data.model.slice(0, 200) : undefined };
}

/** Some local models wrap JSON in a Markdown fence even in JSON mode. */
function stripFence(content: string): string {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(content);
  return fenced ? fenced[1]! : content;
}

function httpError(status: number, retryAfter: string | null, what: string): AiError {
  if (status === 429) {
    const seconds = Number(retryAfter);
    return new AiError('throttled', `the assistant is busy (429) and could not ${what}`, { status, ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}) });
  }
  if (status === 401 || status === 403) return new AiError('refused', `the assistant refused our key (${status}); check AI_API_KEY`, { status });
  if (status >= 500) return new AiError('unavailable', `the assistant failed (${status}) to ${what}`, { status });
  return new AiError('refused', `the assistant refused the request (${status}) to ${what}`, { status });
}
