import { resolveRole, type RolePolicy, type Role } from '../domain/roles.js';
import type { Db } from '../store/database.js';
import { upsertPerson, type Person, type PersonSeen } from '../store/people.js';
import { isRegisteredAgent } from '../store/support-teams.js';

/** A person acting through Teams, with the role that decides what they may do. */
export interface Actor {
  person: Person;
  role: Role;
}

/**
 * Turns "who sent this" into an Actor: stores or refreshes the person, and works out their role from
 * configuration (ADMIN_IDS, AGENT_IDS, ALLOWED_TENANT_IDS) and support-team membership. The stored
 * role follows, so lists of agents stay right when configuration changes.
 */
export class ActorDirectory {
  constructor(
    private readonly db: Db,
    private readonly policy: RolePolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  async identify(seen: PersonSeen): Promise<Actor> {
    const now = this.clock();
    let person = await upsertPerson(this.db, seen, undefined, now);
    const role = resolveRole(
      { teamsId: seen.teamsId, aadObjectId: seen.aadObjectId, tenantId: seen.tenantId },
      this.policy,
      await isRegisteredAgent(this.db, person.id),
    );
    const stored = role === 'outsider' ? 'requester' : role;
    if (person.role !== stored) person = await upsertPerson(this.db, seen, stored, now);
    return { person, role };
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
