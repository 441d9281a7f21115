import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible chat completions endpoint on loopback, speaking the wire format the real API
 * does (POST /v1/chat/completions; the answer's `choices[0].message.content` and `usage`,
 * https://platform.openai.com/docs/api-reference/chat/object). It records every request it gets, so
 * tests assert what reached the model (no email address, no internal note when they are excluded),
 * and answers from a script: JSON content, slow answers, failures and garbage.
 *
 * Without a script entry the answer is worked out from the system prompt, like a very obliging model:
 * a summary, a draft, a triage or a reading of a request, each as the JSON the prompt asks for.
 *
 * Events: 'request' (a recorded request, before it is answered).
 */

export interface RecordedPrompt {
  headers: IncomingHttpHeaders;
  path: string;
  body: { model?: string; messages?: Array<{ role: string; content: string }>; response_format?: { type: string }; max_tokens?: number };
  /** Every message's content, joined: what to search for leaks. */
  text: string;
}

export type ScriptedCompletion =
  /** content: a JSON value (sent as its JSON text) or a raw string (garbage, a fence, …). */
  | { content: unknown; raw?: boolean; usage?: { prompt: number; completion: number }; delayMs?: number }
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  /** Never answered (until the client gives up or the fake stops). */
  | { hang: true };

export class FakeOpenAi extends EventEmitter {
  readonly prompts: RecordedPrompt[] = [];
  /** Requests the client closed before they were answered (timed out on its side). */
  abandoned = 0;
  /** Default usage per answer. */
  usage = { prompt: 120, completion: 30 };
  /** Answers to the next requests, in order; then the obliging default. */
  readonly script: ScriptedCompletion[] = [];
  /** Every answer waits this long first (a slow model); 0 by default. */
  delayMs = 0;
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private base = '';

  constructor() {
    super();
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The base URL a client is given (AI_ENDPOINT). */
  get endpoint(): string {
    return `${this.base}/v1`;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves with the next request that arrives. */
  nextRequest(): Promise<RecordedPrompt> {
    return once(this, 'request').then(([prompt]) => prompt as RecordedPrompt);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    let body: RecordedPrompt['body'];
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'invalid JSON body', type: 'invalid_request_error' } }));
      return;
    }
    const prompt: RecordedPrompt = { headers: req.headers, path: req.url, body, text: (body.messages ?? []).map((m) => m.content).join('\n') };
    this.prompts.push(prompt);
    this.emit('request', prompt);
    res.on('close', () => {
      if (!res.writableEnded) this.abandoned++;
    });

    const step = this.script.shift() ?? { content: obligingAnswer(prompt) };
    if ('hang' in step) return;
    const delay = (step.delayMs ?? 0) + this.delayMs;
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, delay);
        this.timers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          this.timers.delete(timer);
          resolve();
        });
      });
      if (res.destroyed) return;
    }
    if ('status' in step) {
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
      res.end(step.body ?? JSON.stringify({ error: { message: 'scripted failure', type: 'server_error' } }));
      return;
    }
    const usage = step.usage ?? this.usage;
    const content = step.raw ? String(step.content) : JSON.stringify(step.content);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${this.prompts.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model ?? 'fake-model',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion },
      }),
    );
  }
}

/** What a cooperative model would answer to each of the desk's prompts. */
function obligingAnswer(prompt: RecordedPrompt): unknown {
  const system = prompt.body.messages?.find((m) => m.role === 'system')?.content ?? '';
  if (system.includes('"lines"')) return { lines: ['The VPN drops every few minutes.', 'The requester restarted the client.', 'Waiting on the network team.'] };
  if (system.includes('"draft"')) return { draft: 'Hello, thanks for the details. Could you tell us which VPN client version you use?' };
  if (system.includes('"type"')) return { type: 'incident', priority: 'P2', team: null, reason: 'Many people cannot connect.' };
  if (system.includes('"intent"')) return { intent: 'new', priority: null, service: null };
  return {};
}
