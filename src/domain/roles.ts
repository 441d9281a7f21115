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

/**
 * An agent named in AGENT_IDS works the whole desk; one who is an agent only by membership of a
 * registered support team works that team's tickets and tickets of no support team.
 */
export function agentsWholeDesk(identity: Identity, policy: RolePolicy): boolean {
  const ids = [identity.teamsId, identity.aadObjectId].filter((id): id is string => Boolean(id));
  return ids.some((id) => policy.adminIds.includes(id) || policy.agentIds.includes(id));
}

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

/**
 * The priority a new ticket gets when `role` asks for `asked`: requesters may ask for `requesterMax` at
 * most (by default P2), so "P1" stays a triage decision; agents and admins get what they ask.
 */
export function priorityAllowed<P extends string>(role: Role, asked: P, requesterMax: P, order: readonly P[]): P {
  if (isAgent(role)) return asked;
  return order.indexOf(asked) < order.indexOf(requesterMax) ? requesterMax : asked;
}

/** Things done to the desk as a whole rather than to one ticket. */
export type DeskAction = 'quiet-hours' | 'status' | 'report' | 'whois' | 'setup' | 'integrations';

const DESK_REFUSALS: Record<DeskAction, { allowed: (role: Role) => boolean; reason: string }> = {
  'quiet-hours': { allowed: isAgent, reason: 'quiet hours are for agents: they hold SLA warnings until the morning' },
  status: { allowed: (role) => role === 'admin', reason: 'only admins can see the health of the integrations' },
  report: { allowed: isAgent, reason: 'reports are for support agents' },
  whois: { allowed: isAgent, reason: 'only support agents can look people up' },
  setup: { allowed: (role) => role === 'admin', reason: 'only admins can set up channels and teams' },
  integrations: { allowed: (role) => role === 'admin', reason: 'only admins can see and test the integrations' },
};

/** Why `role` may not do a desk-wide `action`, or undefined when allowed. */
export function deskRefusal(role: Role, action: DeskAction): string | undefined {
  if (role === 'outsider') return 'this service desk is only for people in its organisation';
  const rule = DESK_REFUSALS[action];
  return rule.allowed(role) ? undefined : rule.reason;
}

/**
 * Why `caller` may not do `action` on ticket `id` (`ticket` is undefined when there is none). What may
 * not be done at all by the caller's role is said first, whether the ticket exists or not; after that a
 * requester hears the same words for a ticket that does not exist and for one that is not theirs, so
 * ticket numbers can't be probed.
 */
export function ticketRefusal(caller: Caller, action: TicketAction, id: number, ticket: { requesterId: number; teamId: string | null } | undefined): string | undefined {
  const byRole = refusal(caller.role, action, true);
  if (byRole) return byRole;
  if (isAgent(caller.role)) {
    if (!ticket) return `there is no ticket #${id}`;
    return ticket.teamId !== null && caller.otherTeams?.includes(ticket.teamId) ? `ticket #${id} belongs to another support team` : undefined;
  }
  return ticket && ticket.requesterId === caller.personId ? undefined : notYours(id);
}

/** Who is asking, as the rules need it. */
export interface Caller {
  role: Role;
  personId: number;
  /** Registered support teams the caller is not a member of, when they are an agent only by team membership. */
  otherTeams?: readonly string[];
}

/** What a requester hears about a ticket they can't see, whether or not it exists. */
const notYours = (id: number): string => `you have no ticket #${id}`;

/**
 * Who a conversation's content is for. Agent-only content (internal notes, CRM facts, lists of other
 * people's tickets, escalation reasons) goes only where every member is entitled to it.
 */
export type Audience = 'agent' | 'requester';

export interface ConversationAudienceFacts {
  kind: 'personal' | 'channel' | 'groupChat';
  /** Personal chats: the role of the person the chat is with. */
  ownerRole?: Role;
  /** Channels: the team is a registered support team (its members are agents). */
  supportTeam?: boolean;
  /** Channels: an admin set it up for the desk (triage, sla-breaches, critical, escalations). */
  deskChannel?: boolean;
}

/**
 * Agents' personal chats, channels of a registered support team and channels set up for the desk see
 * the agent view; group chats, other channels and requesters' chats see what a requester may see.
 */
export function audienceOf(conversation: ConversationAudienceFacts): Audience {
  switch (conversation.kind) {
    case 'personal':
      return conversation.ownerRole !== undefined && isAgent(conversation.ownerRole) ? 'agent' : 'requester';
    case 'channel':
      return conversation.supportTeam || conversation.deskChannel ? 'agent' : 'requester';
    case 'groupChat':
      return 'requester';
  }
}

/** What one person is shown in one conversation: the agent view needs both an agent and an agents' conversation. */
export function viewFor(role: Role, audience: Audience): Audience {
  return isAgent(role) && audience === 'agent' ? 'agent' : 'requester';
}
