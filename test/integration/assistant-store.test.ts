import { describe, expect, it } from 'vitest';
import { addTokensSpent, decideSuggestion, findSuggestion, listAssistantCalls, recordAssistantCall, saveSuggestion, tokensSpent } from '../../src/store/assistant.js';
import { engines } from '../support/databases.js';

/** The assistant's shared state on each engine: the day's spend replicas add to at once, one decision per suggestion, audit rows. */
describe.each(engines)('assistant store on $name', (engine) => {
  it('adds every replica’s spend to the same day, concurrent adds included, and keeps days apart', async () => {
    const { database, cleanup } = await engine.open();
    try {
      await Promise.all(Array.from({ length: 20 }, () => addTokensSpent(database.db, '2026-03-10', 150)));
      await addTokensSpent(database.db, '2026-03-11', 7);
      await addTokensSpent(database.db, '2026-03-11', 0);
      expect(await tokensSpent(database.db, '2026-03-10')).toBe(3_000);
      expect(await tokensSpent(database.db, '2026-03-11')).toBe(7);
      expect(await tokensSpent(database.db, '2026-03-12')).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('keeps the first suggestion of a ticket, and lets exactly one decision through', async () => {
    const { database, cleanup } = await engine.open();
    try {
      expect(await saveSuggestion(database.db, 41, 'triage', { type: 'request', priority: 'P2', team: null, reason: 'x' }, 1)).toBe(true);
      expect(await saveSuggestion(database.db, 41, 'triage', { type: 'incident', priority: 'P1', team: null, reason: 'y' }, 2)).toBe(false);
      expect(await findSuggestion(database.db, 41)).toMatchObject({ kind: 'triage', state: 'pending', payload: { type: 'request', priority: 'P2' } });
      const decisions = await Promise.all([decideSuggestion(database.db, 41, 'accepted', 7, 3), decideSuggestion(database.db, 41, 'dismissed', 8, 3)]);
      expect(decisions.filter(Boolean)).toHaveLength(1);
      expect((await findSuggestion(database.db, 41))!.state).toBe(decisions[0] ? 'accepted' : 'dismissed');
    } finally {
      await cleanup();
    }
  });

  it('records audit rows with numbers, never text', async () => {
    const { database, cleanup } = await engine.open();
    try {
      await recordAssistantCall(database.db, { at: 10, personId: 3, ticketId: 41, feature: 'summary', model: 'm', promptTokens: 321, completionTokens: 45, outcome: 'ok', ms: 12.7 });
      await recordAssistantCall(database.db, { at: 11, personId: null, ticketId: null, feature: 'read-request', model: 'm', promptTokens: 0, completionTokens: 0, outcome: 'budget', ms: 1 });
      expect(await listAssistantCalls(database.db)).toEqual([
        { at: 10, personId: 3, ticketId: 41, feature: 'summary', model: 'm', promptTokens: 321, completionTokens: 45, outcome: 'ok', ms: 13 },
        { at: 11, personId: null, ticketId: null, feature: 'read-request', model: 'm', promptTokens: 0, completionTokens: 0, outcome: 'budget', ms: 1 },
      ]);
    } finally {
      await cleanup();
    }
  });
});
