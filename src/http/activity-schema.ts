/**
 * The fields of an inbound activity that the Bot Framework protocol requires and that our handlers
 * rely on. Checked before the adapter sees the request, so a malformed activity gets a 400 that says
 * what is missing instead of a crash deep inside a handler. Unknown fields pass through untouched.
 * (Written out by hand rather than with a schema library: it runs on every request.)
 */

export type ActivityCheck = { ok: true } | { ok: false; problems: string[] };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

export function checkInboundActivity(body: unknown): ActivityCheck {
  if (!isObject(body)) return { ok: false, problems: ['the body must be a JSON activity object'] };
  const problems: string[] = [];
  const text = (path: string, value: unknown) => {
    if (value === undefined) problems.push(`${path}: is required`);
    else if (typeof value !== 'string') problems.push(`${path}: must be a string`);
    else if (value.length === 0) problems.push(`${path}: must not be empty`);
  };
  const withId = (path: string, value: unknown) => {
    if (value === undefined) problems.push(`${path}: is required`);
    else if (!isObject(value)) problems.push(`${path}: must be an object`);
    else text(`${path}.id`, value.id);
  };
  text('type', body.type);
  text('channelId', body.channelId);
  text('serviceUrl', body.serviceUrl);
  if (typeof body.serviceUrl === 'string' && body.serviceUrl && !URL.canParse(body.serviceUrl)) problems.push('serviceUrl: must be a URL');
  withId('conversation', body.conversation);
  withId('from', body.from);
  withId('recipient', body.recipient);
  for (const field of ['text', 'name'] as const) {
    if (body[field] !== undefined && body[field] !== null && typeof body[field] !== 'string') problems.push(`${field}: must be a string`);
  }
  return problems.length === 0 ? { ok: true } : { ok: false, problems };
}
