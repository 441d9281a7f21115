import type { QuietHours } from '../domain/quiet-hours.js';
import { agentsWholeDesk, deskRefusal, resolveRole, type Caller, type RolePolicy, type Role } from '../domain/roles.js';
import type { Db } from '../store/database.js';
import { findAgentsByName, findPerson, findPersonByTeamsId, setQuietHours, upsertPerson, type Person, type PersonSeen } from '../store/people.js';
import { isRegisteredAgent, supportTeamIds, teamsOfPerson } from '../store/support-teams.js';
import { addAudit, type Surface } from '../store/timeline.js';
import type { Result } from './result.js';

/** Someone the desk knows (a Teams user or an email contact), and what Teams says about a user. */
export type { Person, PersonSeen };

/** A person acting through Teams, with the role that decides what they may do. */
export interface Actor {
  person: Person;
  role: Role;
  /** Support teams whose tickets are not this agent's to work (see `agentsWholeDesk`). */
  otherTeams?: readonly string[];
}

/** The actor as the access rules see them. */
export function callerOf(actor: Actor): Caller {
  return { role: actor.role, personId: actor.person.id, ...(actor.otherTeams ? { otherTeams: actor.otherTeams } : {}) };
}

/**
 * Turns "who sent this" into an Actor: stores or refreshes the person, and works out their role from
 * configuration (ADMIN_IDS, AGENT_IDS, ALLOWED_TENANT_IDS) and support-team membership. The stored
 * role follows, so lists of agents stay right when configuration changes.
 */
export class ActorDirectory {
  /**
   * Recently identified people, so a busy agent's every turn does not rewrite the same row. An entry
   * lives `memoMs`; roles change by configuration (a restart) or by registering a support team, which
   * clears the memo.
   */
  private readonly memo = new Map<string, { actor: Actor; seen: PersonSeen; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly policy: RolePolicy,
    private readonly clock: () => number = Date.now,
    private readonly memoMs = 30_000,
  ) {}

  /** Forget what was memoized, after a change of who is an agent. */
  clear(): void {
    this.memo.clear();
  }

  async identify(seen: PersonSeen): Promise<Actor> {
    const now = this.clock();
    const hit = this.memo.get(seen.teamsId);
    if (hit && hit.until > now && samePerson(hit.seen, seen)) return hit.actor;
    const actor = await this.lookUp(seen, now);
    if (this.memo.size > 10_000) this.memo.clear();
    this.memo.set(seen.teamsId, { actor, seen, until: now + this.memoMs });
    return actor;
  }

  private async lookUp(seen: PersonSeen, now: number): Promise<Actor> {
    let person = await upsertPerson(this.db, seen, undefined, now);
    const role = resolveRole(
      { teamsId: seen.teamsId, aadObjectId: seen.aadObjectId, tenantId: seen.tenantId },
      this.policy,
      await isRegisteredAgent(this.db, person.id),
    );
    const stored = role === 'outsider' ? 'requester' : role;
    if (person.role !== stored) person = await upsertPerson(this.db, seen, stored, now);
    if (role !== 'agent' || agentsWholeDesk({ teamsId: seen.teamsId, aadObjectId: seen.aadObjectId, tenantId: seen.tenantId }, this.policy)) return { person, role };
    const mine = new Set(await teamsOfPerson(this.db, person.id));
    return { person, role, otherTeams: (await supportTeamIds(this.db)).filter((team) => !mine.has(team)) };
  }

  async person(id: number): Promise<Person | undefined> {
    return findPerson(this.db, id);
  }

  async personByTeamsId(teamsId: string): Promise<Person | undefined> {
    return findPersonByTeamsId(this.db, teamsId);
  }

  /** Agents whose name contains `text` (for "assign to megan"). */
  async agentsNamed(text: string): Promise<Person[]> {
    return findAgentsByName(this.db, text);
  }

  /**
   * An agent's quiet hours (null: none), during which SLA warnings other than P1 wait for them; audited,
   * as it decides when people hear about breaches.
   */
  async setQuietHours(actor: Actor, quiet: QuietHours | null, surface: Surface): Promise<Result<null>> {
    const refused = deskRefusal(actor.role, 'quiet-hours');
    if (refused) return { ok: false, reason: refused, denied: true };
    const now = this.clock();
    await this.db.transaction().execute(async (tx) => {
      await setQuietHours(tx, actor.person.id, quiet, now);
      await addAudit(tx, { at: now, actorId: actor.person.id, action: 'person.quiet-hours', ticketId: null, surface, details: { from: actor.person.quiet, to: quiet } });
    });
    // The memoized actor still carries the old hours.
    this.clear();
    return { ok: true, value: null, notice: '' };
  }

  /** The role of someone already stored, e.g. the person a personal chat belongs to. */
  async roleOf(person: Person): Promise<Role> {
    return resolveRole(
      { teamsId: person.teamsId ?? '', aadObjectId: person.aadObjectId, tenantId: person.tenantId },
      this.policy,
      await isRegisteredAgent(this.db, person.id),
    );
  }
}

const samePerson = (a: PersonSeen, b: PersonSeen) =>
  a.aadObjectId === b.aadObjectId &&
  a.tenantId === b.tenantId &&
  a.name === b.name &&
  (b.email === undefined || a.email === b.email) &&
  (b.timeZone === undefined || a.timeZone === b.timeZone);
