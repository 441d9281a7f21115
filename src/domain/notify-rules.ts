import type { DeskEventType } from './desk-events.js';

/**
 * Notification rules: which desk events go to which targets, on which conditions. Pure: the caller
 * states the facts of an event, and gets back each target once, with the rules that sent it there
 * (several rules naming one target still make one delivery).
 */

/** The Teams channels the desk knows by role (`setup channel <role>`). */
export const TEAMS_CHANNEL_ROLES = ['triage', 'critical', 'sla-breaches', 'escalations'] as const;
export type TeamsChannelRole = (typeof TEAMS_CHANNEL_ROLES)[number];

export interface RuleConditions {
  priority?: readonly string[];
  tier?: readonly string[];
  /** Ticket type: incident, request. */
  type?: readonly string[];
  /** Teams team ids or the names support teams were registered with. */
  team?: readonly string[];
  /** true: only while the ticket's calendar is open; false: only while it is closed. */
  businessHours?: boolean;
}

export interface NotifyRule {
  name: string;
  /** '*' is every event type. */
  events: readonly (DeskEventType | '*')[];
  when: RuleConditions;
  /** Integration names from the config, or `teams:<role>`. */
  notify: readonly string[];
  /** Where the rule comes from: the config file, or the desk's built-in routing (listed, always on). */
  origin: 'config' | 'built-in';
  /** For built-in rules: what the routing does, in words (it has details rules do not express). */
  description?: string;
}

export interface EventFacts {
  type: DeskEventType;
  priority: string;
  tier: string;
  ticketType: string;
  teamId: string | null;
  teamName: string | null;
  /** Whether the ticket's calendar is open at the event's time. */
  inBusinessHours: boolean;
}

export interface RoutedTarget {
  target: string;
  /** Names of the rules that matched and name this target. */
  rules: string[];
}

export function ruleMatches(rule: NotifyRule, facts: EventFacts): boolean {
  if (!rule.events.includes('*') && !rule.events.includes(facts.type)) return false;
  const { when } = rule;
  if (when.priority && !when.priority.includes(facts.priority)) return false;
  if (when.tier && !when.tier.includes(facts.tier)) return false;
  if (when.type && !when.type.includes(facts.ticketType)) return false;
  if (when.team && !when.team.some((t) => t === facts.teamId || (facts.teamName !== null && t.toLowerCase() === facts.teamName.toLowerCase()))) return false;
  if (when.businessHours !== undefined && when.businessHours !== facts.inBusinessHours) return false;
  return true;
}

/** Every target the matching rules name, each once, in the order first named. */
export function route(rules: readonly NotifyRule[], facts: EventFacts): RoutedTarget[] {
  const routed = new Map<string, RoutedTarget>();
  for (const rule of rules) {
    if (!ruleMatches(rule, facts)) continue;
    for (const target of rule.notify) {
      const entry = routed.get(target);
      if (entry) entry.rules.push(rule.name);
      else routed.set(target, { target, rules: [rule.name] });
    }
  }
  return [...routed.values()];
}

/** Whether a rule's conditions need the ticket's business hours (so the caller computes them only then). */
export function needsBusinessHours(rules: readonly NotifyRule[]): boolean {
  return rules.some((r) => r.when.businessHours !== undefined);
}

export function teamsRoleOf(target: string): TeamsChannelRole | undefined {
  const match = /^teams:(.+)$/.exec(target);
  return match && (TEAMS_CHANNEL_ROLES as readonly string[]).includes(match[1]!) ? (match[1] as TeamsChannelRole) : undefined;
}

/**
 * Today's fixed routing, written as rules. It is always on, and is what `integrations` lists before
 * the file's rules; a file may route the same events to the same channels again without posting
 * twice (the deliveries share their keys). The built-in routing has details rules do not say (a
 * warning goes to the assignee's chat first; escalation levels follow the SLA policy), hence the words.
 */
export const BUILT_IN_RULES: readonly NotifyRule[] = [
  {
    name: 'new tickets to triage',
    events: ['ticket.created'],
    when: {},
    notify: ['teams:triage'],
    origin: 'built-in',
    description: 'a ticket opened in a personal chat or by email is posted in the triage channel (one opened in a channel stays there)',
  },
  { name: 'P1 to critical', events: ['ticket.created'], when: { priority: ['P1'] }, notify: ['teams:critical'], origin: 'built-in', description: 'a P1 is posted in the critical channel too' },
  {
    name: 'SLA warnings',
    events: ['sla.warning'],
    when: {},
    notify: ['teams:triage'],
    origin: 'built-in',
    description: "to the assignee's personal chat (held for quiet hours below P1); to the ticket's channel or triage while nobody has it",
  },
  {
    name: 'SLA breaches',
    events: ['sla.breach'],
    when: {},
    notify: ['teams:sla-breaches'],
    origin: 'built-in',
    description: 'to the assignee and the sla-breaches channel (triage when none is mapped); starts the escalation policy',
  },
  {
    name: 'escalations',
    events: ['escalation.raised', 'escalation.unanswered'],
    when: {},
    notify: ['teams:escalations'],
    origin: 'built-in',
    description: 'each level of the SLA policy asks its channel or person in turn; when the last level goes unanswered, the escalations channel is alerted',
  },
];
