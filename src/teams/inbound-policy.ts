import { EmulatorValidation, SkillValidation } from 'botframework-connector';
import type { InboundPolicy } from '../config.js';
import { originAllowed } from '../domain/origin-pattern.js';

/**
 * Who may talk to the bot, decided from the request alone before botbuilder sees it: nothing is stored
 * and nothing is sent until an activity passes. botbuilder 4.23 trusts whatever serviceUrl an activity
 * names and sends the bot's own token there with every reply (its trust list is a no-op), so an
 * activity naming a host outside the allowlist must never reach it.
 */
export type InboundVerdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

export function checkInbound(activity: Json, authorization: string, policy: InboundPolicy, authenticated: boolean): InboundVerdict {
  if (authenticated) {
    // botbuilder routes a token to skill or Emulator validation by its claims alone; this bot is neither
    // a skill host nor, unless asked, an Emulator target, so only Bot Framework channel tokens go on.
    if (SkillValidation.isSkillToken(authorization)) return { ok: false, status: 401, reason: 'skill tokens are not accepted' };
    if (!policy.allowEmulatorTokens && EmulatorValidation.isTokenFromEmulator(authorization)) {
      return { ok: false, status: 401, reason: 'Emulator tokens are not accepted (ALLOW_EMULATOR_TOKENS is off)' };
    }
  }
  if (policy.channelId && activity.channelId !== policy.channelId) {
    return { ok: false, status: 403, reason: `only the ${policy.channelId} channel is served` };
  }
  if (!originAllowed(String(activity.serviceUrl ?? ''), policy.allowedServiceUrls)) {
    return { ok: false, status: 403, reason: 'serviceUrl is not on ALLOWED_SERVICE_URLS' };
  }
  if (policy.allowedTenantIds !== '*') {
    const tenant = tenantOf(activity);
    if (!tenant || !policy.allowedTenantIds.includes(tenant)) return { ok: false, status: 403, reason: 'tenant is not on ALLOWED_TENANT_IDS' };
  }
  return { ok: true };
}

/** Teams puts the tenant in channelData.tenant.id, and in conversation.tenantId for most activities. */
function tenantOf(activity: Json): string | undefined {
  const fromChannelData = isObject(activity.channelData) && isObject(activity.channelData.tenant) ? activity.channelData.tenant.id : undefined;
  const fromConversation = isObject(activity.conversation) ? activity.conversation.tenantId : undefined;
  const tenant = fromChannelData ?? fromConversation;
  return typeof tenant === 'string' && tenant ? tenant : undefined;
}
