/**
 * Who may do what. Pure: the caller's role comes from configuration and the support-team registry,
 * and every ticket action, typed or pressed, is checked here the same way.
 */

export type Role = 'admin' | 'agent' | 'requester' | 'outsider';

export interface Identity {
  teamsId: string;
  aadObjectId: string | null;
  tenantId: string | null;
}

export interface RolePolicy {
  adminIds: readonly string[];
  agentIds: readonly string[];
  /** Empty: any tenant may use the bot. */
  allowedTenantIds: readonly string[];
}

/** `registeredAgent`: the person is a member of a registered support team. */
export function resolveRole(identity: Identity, policy: RolePolicy, registeredAgent: boolean): Role {
  const ids = [identity.teamsId, identity.aadObjectId].filter((id): id is string => Boolean(id));
  if (ids.some((id) => policy.adminIds.includes(id))) return 'admin';
  if (ids.some((id) => policy.agentIds.includes(id))) return 'agent';
  if (policy.allowedTenantIds.length > 0 && (!identity.tenantId || !policy.allowedTenantIds.includes(identity.tenantId))) return 'outsider';
  return registeredAgent ? 'agent' : 'requester';
}

export const isAgent = (role: Role): boolean => role === 'agent' || role === 'admin';

export type TicketAction =
  | 'create'
  | 'view'
  | 'view-internal'
  | 'comment'
  | 'note'
  | 'take'
  | 'assign'
  | 'priority'
  | 'status'
  | 'reopen'
  | 'list-all'
  | 'setup';

/**
 * Returns why `role` may not do `action` (on a ticket the caller requested, when `ownTicket`), or
 * undefined when allowed.
 */
export function refusal(role: Role, action: TicketAction, ownTicket = false): string | undefined {
  if (role === 'outsider') return 'this service desk is only for people in its organisation';
  if (role === 'admin') return undefined;
  if (role === 'agent') return action === 'setup' ? 'only admins can set up channels and teams' : undefined;
  // A requester opens tickets and follows their own.
  switch (action) {
    case 'create':
      return undefined;
    case 'view':
    case 'comment':
    case 'reopen':
      return ownTicket ? undefined : 'you can only see tickets you opened';
    case 'setup':
      return 'only admins can set up channels and teams';
    case 'note':
      return 'internal notes are for agents; use reply to add a comment';
    default:
      return 'only support agents can do that';
  }
}
