import { z } from 'zod';

/** HubSpot webhook events, parsed at the edge: which contacts and companies changed. */
const event = z
  .object({
    subscriptionType: z.string().max(100),
    objectId: z.union([z.number(), z.string()]).transform(String),
    propertyName: z.string().max(200).optional(),
    occurredAt: z.number().optional(),
  })
  .passthrough();
const payload = z.array(event).min(1).max(1000);

export function parseHubSpotEvents(body: unknown): { ok: true; changed: { contactIds: string[]; companyIds: string[] } } | { ok: false; problem: string } {
  const parsed = payload.safeParse(body);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ') };
  const contactIds = new Set<string>();
  const companyIds = new Set<string>();
  for (const e of parsed.data) {
    if (e.subscriptionType.startsWith('contact.')) contactIds.add(e.objectId);
    else if (e.subscriptionType.startsWith('company.')) companyIds.add(e.objectId);
  }
  return { ok: true, changed: { contactIds: [...contactIds], companyIds: [...companyIds] } };
}
