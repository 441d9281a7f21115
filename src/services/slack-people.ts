import { agentsWholeDesk, resolveRole, type Identity, type RolePolicy } from '../domain/roles.js';
import type { SlackUser } from '../integrations/slack/client.js';
import type { Db } from '../store/database.js';
import { findPersonByEmail, type Person } from '../store/people.js';
import { isRegisteredAgent, supportTeamIds, teamsOfPerson } from '../store/support-teams.js';
import type { Actor } from './actors.js';

/**
 * Who a Slack user is at the desk: the desk person with the same email address, when Slack has
 * verified that the user owns it. users.info gives `profile.email` with the users:read.email scope and
 * `is_email_confirmed` (https://api.slack.com/methods/users.info); an unconfirmed address could be
 * anyone's, so it maps to nobody. The role is worked out as for a Teams user (configuration and
 * support-team membership), so Slack gives nobody rights they would not have in Teams.
 */

export type SlackIdentity = { ok: true; actor: Actor; email: string } | { ok: false; reason: string };

export interface SlackPeopleOptions {
  db: Db;
  policy: RolePolicy;
  /** users.info; the signal ends it when the lookup's budget is spent. */
  userInfo: (userId: string, signal: AbortSignal) => Promise<SlackUser>;
  /**
   * The most a lookup may take: Slack shows an error unless the request is answered within 3 seconds
   * (https://api.slack.com/interactivity/handling#acknowledgment_response), and the action still has to run.
   */
  lookupTimeoutMs?: number;
  clock?: () => number;
  /** How long a found person is remembered (people rarely change address). */
  cacheMs?: number;
  /** How long a refusal is remembered: short, so an admin's fix shows at once, but a retry storm costs no lookups. */
  refusalCacheMs?: number;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,30}$/;

export class SlackPeople {
  private readonly cache = new Map<string, { info: SlackUser; until: number }>();

  constructor(private readonly options: SlackPeopleOptions) {}

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** Forget every lookup (after people or agents change). */
  forget(): void {
    this.cache.clear();
  }

  async identify(slackUserId: string): Promise<SlackIdentity> {
    if (!SLACK_USER_ID.test(slackUserId)) return { ok: false, reason: 'That request did not come from a Slack user the desk can look up.' };
    const now = this.now();
    // What Slack says of the user is remembered; who that is at the desk, and their role, is read
    // each time, so an agent removed in Teams loses their rights in Slack at once too.
    let user = this.cache.get(slackUserId);
    if (!user || user.until <= now) {
      try {
        const info = await this.options.userInfo(slackUserId, AbortSignal.timeout(this.options.lookupTimeoutMs ?? 1_500));
        const usable = !info.deleted && !info.isBot && Boolean(info.email) && info.emailConfirmed;
        user = { info, until: now + (usable ? (this.options.cacheMs ?? 5 * 60_000) : (this.options.refusalCacheMs ?? 60_000)) };
      } catch {
        // Not remembered: Slack being slow or throttling us says nothing about the person.
        return { ok: false, reason: 'Slack did not tell the desk who you are just now. Please try again in a minute.' };
      }
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(slackUserId, user);
    }
    return this.match(user.info);
  }

  private async match(user: SlackUser): Promise<SlackIdentity> {
    if (user.deleted || user.isBot) return { ok: false, reason: 'Only active Slack members can use the service desk.' };
    if (!user.email) return { ok: false, reason: 'The desk cannot see your Slack email address, so it cannot tell who you are. Ask an admin to give the Slack app the users:read.email permission.' };
    if (!user.emailConfirmed) return { ok: false, reason: `Your Slack email address (${user.email}) is not verified, so the desk cannot be sure it is yours. Confirm it in Slack, then try again.` };
    const person = await findPersonByEmail(this.options.db, user.email);
    if (!person) return { ok: false, reason: `No service desk account uses ${user.email}. Ask a desk admin to add you (people join the desk through Teams), then try again.` };
    return { ok: true, actor: await this.actorOf(person), email: user.email.toLowerCase() };
  }

  /** The person as an Actor, their role as ActorDirectory works it out for a Teams user. */
  async actorOf(person: Person): Promise<Actor> {
    const identity: Identity = { teamsId: person.teamsId ?? '', aadObjectId: person.aadObjectId, tenantId: person.tenantId };
    const role = resolveRole(identity, this.options.policy, await isRegisteredAgent(this.options.db, person.id));
    if (role !== 'agent' || agentsWholeDesk(identity, this.options.policy)) return { person, role };
    // An agent only by membership of support teams works those teams' tickets (see ActorDirectory).
    const mine = new Set(await teamsOfPerson(this.options.db, person.id));
    return { person, role, otherTeams: (await supportTeamIds(this.options.db)).filter((team) => !mine.has(team)) };
  }
}
