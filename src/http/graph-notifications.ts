import { z } from 'zod';

/** Graph change and lifecycle notifications, parsed at the edge (only what we act on). */
const notification = z.object({
  subscriptionId: z.string().min(1).max(200),
  clientState: z.string().max(128).optional().nullable().transform((v) => v ?? undefined),
  changeType: z.string().max(50).optional(),
  resource: z.string().max(2000).optional(),
  lifecycleEvent: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']).optional(),
});
const payload = z.object({ value: z.array(notification).min(1).max(1000) });

export type GraphNotification = z.infer<typeof notification>;

export function parseGraphNotifications(body: unknown): { ok: true; notifications: GraphNotification[] } | { ok: false; problem: string } {
  const parsed = payload.safeParse(typeof body === 'string' ? safeJson(body) : body);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ') };
  return { ok: true, notifications: parsed.data.value };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
