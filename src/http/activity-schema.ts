import { z } from 'zod';

/**
 * The fields of an inbound activity that the Bot Framework protocol requires and that our handlers
 * rely on. Checked before the adapter sees the request, so a malformed activity gets a 400 that says
 * what is missing instead of a crash deep inside a handler. Unknown fields pass through untouched.
 */
const account = z.object({ id: z.string().min(1, 'must not be empty') }).passthrough();

export const inboundActivitySchema = z
  .object({
    type: z.string().min(1, 'must not be empty'),
    channelId: z.string().min(1, 'must not be empty'),
    serviceUrl: z.string().url('must be a URL'),
    conversation: z.object({ id: z.string().min(1, 'must not be empty') }).passthrough(),
    from: account,
    recipient: account,
    text: z.string().optional(),
    name: z.string().optional(),
  })
  .passthrough();

export type ActivityCheck = { ok: true } | { ok: false; problems: string[] };

export function checkInboundActivity(body: unknown): ActivityCheck {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, problems: ['the body must be a JSON activity object'] };
  }
  const result = inboundActivitySchema.safeParse(body);
  if (result.success) return { ok: true };
  return {
    ok: false,
    problems: result.error.issues.map((i) => `${i.path.join('.') || 'activity'}: ${i.message === 'Required' ? 'is required' : i.message}`),
  };
}
