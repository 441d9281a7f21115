import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import * as AC from 'adaptivecards';

/**
 * Checks a card the way two independent readers would: the official Adaptive Cards 1.5 JSON schema
 * (draft-06, strict; Teams' own `msteams` property set aside, as the schema does not know it) and the
 * `adaptivecards` object model with Teams' host config, which reports unknown elements, bad values and
 * limits (such as the number of actions) while parsing.
 */
const schema = JSON.parse(readFileSync(new URL('../fixtures/adaptive-cards/adaptive-card.1.5.schema.json', import.meta.url), 'utf8'));
delete schema.id;
const ajv = new Ajv.default({ strict: false, validateSchema: false, allErrors: false });
ajv.addMetaSchema(JSON.parse(readFileSync(new URL('../../node_modules/ajv/dist/refs/json-schema-draft-06.json', import.meta.url), 'utf8')));
const validate = ajv.compile(schema);

function withoutTeamsExtensions(card: unknown): unknown {
  return JSON.parse(JSON.stringify(card, (key, value) => (key === 'msteams' ? undefined : value)));
}

export function schemaErrors(card: unknown): string[] {
  if (validate(withoutTeamsExtensions(card))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Teams' own host config: it allows 6 actions where the library's default allows 5. */
const teamsHostConfig = new AC.HostConfig(JSON.parse(readFileSync(new URL('../fixtures/adaptive-cards/host-config.microsoft-teams-light.json', import.meta.url), 'utf8')));

export function objectModelErrors(card: unknown): string[] {
  const parsed = new AC.AdaptiveCard();
  parsed.hostConfig = teamsHostConfig;
  const context = new AC.SerializationContext();
  parsed.parse(card, context);
  const errors: string[] = [];
  for (let i = 0; i < context.eventCount; i++) errors.push(`parse: ${context.getEventAt(i).message}`);
  for (const event of parsed.validateProperties().validationEvents) errors.push(`validate: ${event.message}`);
  return errors;
}
