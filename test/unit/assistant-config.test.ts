import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AI_TIMEOUT_CAP_MS, parseConfig } from '../../src/config.js';
import { OpenAiCompatibleClient } from '../../src/integrations/ai/openai-compatible.js';
import { FakeOpenAi } from '../fakes/openai.js';

/** The assistant's settings, and the client's wire details against the loopback fake. */
describe('AI assistant settings', () => {
  const ai = (env: Record<string, string>) => {
    const parsed = parseConfig(env);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    return parsed.config.ai;
  };

  it('is off without an endpoint', () => {
    expect(ai({})).toBeNull();
  });

  it('takes any OpenAI-compatible endpoint with a bearer key, and Azure hosts with an api-key header', () => {
    expect(ai({ AI_ENDPOINT: 'http://127.0.0.1:11434/v1/', AI_MODEL: 'llama3.2' })).toMatchObject({ endpoint: 'http://127.0.0.1:11434/v1', model: 'llama3.2', auth: 'bearer', timeoutMs: 3_000, dailyTokenBudget: 200_000, includeInternalNotes: false });
    expect(ai({ AI_ENDPOINT: 'https://contoso.openai.azure.com/openai/v1', AI_API_KEY: 'k', AI_MODEL: 'gpt-4o-deployment' })).toMatchObject({ auth: 'api-key', model: 'gpt-4o-deployment' });
  });

  it('turns Azure OpenAI settings into the resource’s v1 API', () => {
    expect(ai({ AZURE_OPENAI_ENDPOINT: 'https://contoso.openai.azure.com/', AZURE_OPENAI_API_KEY: 'k', AZURE_OPENAI_DEPLOYMENT: 'desk-gpt' })).toMatchObject({ endpoint: 'https://contoso.openai.azure.com/openai/v1', apiKey: 'k', model: 'desk-gpt', auth: 'api-key' });
  });

  it('caps AI_TIMEOUT under Teams’ 5-second invoke limit and refuses nonsense', () => {
    expect(ai({ AI_ENDPOINT: 'http://127.0.0.1:1/v1', AI_TIMEOUT: '30s' })!.timeoutMs).toBe(AI_TIMEOUT_CAP_MS);
    expect(AI_TIMEOUT_CAP_MS).toBeLessThan(5_000);
    const bad = parseConfig({ AI_ENDPOINT: 'not a url', AI_TIMEOUT: 'soon', AI_DAILY_TOKEN_BUDGET: '-1', AI_INCLUDE_INTERNAL_NOTES: 'yes' });
    expect(bad.ok).toBe(false);
    expect(bad.ok ? [] : bad.problems.join('\n')).toMatch(/AI_ENDPOINT[\s\S]*AI_TIMEOUT[\s\S]*AI_DAILY_TOKEN_BUDGET[\s\S]*AI_INCLUDE_INTERNAL_NOTES/);
  });
});

describe('OpenAI-compatible client', () => {
  let fake: FakeOpenAi;
  beforeAll(async () => {
    fake = await new FakeOpenAi().start();
  });
  afterAll(() => fake.stop());
  const schema = z.object({ lines: z.array(z.string()) });
  const request = { system: 'Answer {"lines": []}', user: 'hi', maxTokens: 50 };

  it('sends an Azure key as api-key, reads usage, and accepts JSON in a Markdown fence', async () => {
    const client = new OpenAiCompatibleClient({ endpoint: fake.endpoint, apiKey: 'azure-key', model: 'dep', auth: 'api-key' }, 2_000);
    fake.script.push({ content: '```json\n{"lines": ["a"]}\n```', raw: true, usage: { prompt: 11, completion: 2 } });
    expect(await client.chatJson('summarise', request, schema)).toEqual({ ok: true, value: { lines: ['a'] }, usage: { promptTokens: 11, completionTokens: 2 }, model: 'dep' });
    expect(fake.prompts.at(-1)!.headers['api-key']).toBe('azure-key');
    expect(fake.prompts.at(-1)!.headers.authorization).toBeUndefined();
    expect(fake.prompts.at(-1)!.body).toMatchObject({ max_tokens: 50, response_format: { type: 'json_object' } });
  });

  it('types each failure: slow, throttled, refused, down, garbage; none throws', async () => {
    const client = new OpenAiCompatibleClient({ endpoint: fake.endpoint, apiKey: undefined, model: 'm', auth: 'bearer' }, 300);
    fake.script.push({ hang: true });
    const slow = await client.chatJson('summarise', request, schema);
    expect(slow.ok ? '' : slow.error.failure).toBe('timeout');
    fake.script.push({ status: 429, headers: { 'retry-after': '0' } });
    const throttled = await client.chatJson('summarise', request, schema);
    expect(throttled.ok ? '' : throttled.error.failure).toBe('throttled');
    fake.script.push({ status: 403 });
    const refused = await client.chatJson('summarise', request, schema);
    expect(refused.ok ? '' : refused.error.failure).toBe('refused');
    fake.script.push({ status: 502, body: '<html>bad gateway</html>' });
    const down = await client.chatJson('summarise', request, schema);
    expect(down.ok ? '' : down.error.failure).toBe('unavailable');
    fake.script.push({ content: '{"lines": ', raw: true });
    const garbage = await client.chatJson('summarise', request, schema);
    expect(garbage.ok ? '' : garbage.error.failure).toBe('invalid');
    const unreachable = await new OpenAiCompatibleClient({ endpoint: 'http://127.0.0.1:1/v1', apiKey: undefined, model: 'm', auth: 'bearer' }, 1_000).chatJson('summarise', request, schema);
    expect(unreachable.ok ? '' : unreachable.error.failure).toBe('unavailable');
  });
});
