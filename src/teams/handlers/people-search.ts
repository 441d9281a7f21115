import type { Application, TurnState } from '@microsoft/teams-ai';
import type { TurnContext } from 'botbuilder';
import { AGENTS_DATASET } from '../../cards/ticket-card.js';
import { isAgent } from '../../domain/roles.js';
import { callerOf } from '../turn.js';
import type { TurnServices } from './turn-services.js';

/**
 * The Assign picker's typeahead: as an agent types in it, Teams sends `application/search` with the
 * text and the card's dataset, and shows the choices we answer (Microsoft Learn, "Typeahead search in
 * Adaptive Cards", https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search).
 */

/** Teams shows at most 15 options in the dropdown (same page), so more would only be dropped. */
export const MAX_SUGGESTIONS = 15;

/** Longer than any name or address: the rest of a pasted paragraph is not worth matching. */
const QUERY_MAX = 100;

export interface Suggestion {
  title: string;
  /** The person's id, as the picker's static choices carry it, so the Assign button reads either. */
  value: string;
}

export function registerPeopleSearch(app: Application<TurnState>, deps: Pick<TurnServices, 'actors' | 'logger'>): void {
  app.adaptiveCards.search(AGENTS_DATASET, async (context, _state, query) => searchAgents(context, deps, query.parameters.queryText, { top: query.count, skip: query.skip }));
}

/**
 * Agents of the desk whose name (or a word of it) or email starts with what was typed, alphabetical.
 * Only agents get suggestions: the picker is on agents' cards, and the list of agents is theirs to see.
 */
export async function searchAgents(
  context: TurnContext,
  deps: Pick<TurnServices, 'actors' | 'logger'>,
  queryText: unknown,
  options: { top?: unknown; skip?: unknown } = {},
): Promise<Suggestion[]> {
  const actor = await deps.actors.identify(callerOf(context.activity));
  if (!isAgent(actor.role)) {
    deps.logger.info({ activityId: context.activity.id, role: actor.role }, 'agent search by someone who is not an agent: no suggestions');
    return [];
  }
  const text = typeof queryText === 'string' ? queryText.trim().replace(/^@/, '').slice(0, QUERY_MAX) : '';
  const top = Math.min(MAX_SUGGESTIONS, positiveInt(options.top) ?? MAX_SUGGESTIONS);
  const skip = Math.min(10_000, positiveInt(options.skip) ?? 0);
  const suggestions: Suggestion[] = [];
  let skipped = 0;
  for (const person of await deps.actors.agentsNamed(text)) {
    // The stored role follows configuration only when a person is next seen; ask the rules now, so
    // someone who stopped being an agent is not offered.
    if (!isAgent(await deps.actors.roleOf(person))) continue;
    if (skipped < skip) {
      skipped += 1;
      continue;
    }
    suggestions.push({ title: person.email ? `${person.name} (${person.email})` : person.name, value: String(person.id) });
    if (suggestions.length >= top) break;
  }
  return suggestions;
}

function positiveInt(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
