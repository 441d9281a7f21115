import { sql } from 'kysely';
import { openDatabase } from '../../src/store/database.js';

/**
 * Gives a seeded desk (bench/lib/seed.ts names every ticket "Seeded ticket N") subjects and requesters
 * that read like a help desk's: a few hundred distinct words, some in many tickets ("password",
 * "printer"), most in few, and requesters with names and email addresses. The full-text index follows
 * through its triggers, as it does in service.
 */
const THINGS = ['printer', 'laptop', 'VPN', 'Outlook', 'Teams', 'password', 'monitor', 'docking station', 'SharePoint site', 'OneDrive', 'badge reader', 'Wi-Fi', 'phone', 'invoice', 'payroll', 'license', 'keyboard', 'calendar', 'mailbox', 'Excel macro'];
const TROUBLES = ['not working', 'keeps crashing', 'is slow', 'access denied', 'cannot connect', 'error 0x80070005', 'needs reset', 'request for new', 'missing after update', 'sync fails', 'shows blank screen', 'locked out'];
const PLACES = ['Building 4', 'Paris office', 'warehouse', 'reception', 'home office', 'Munich lab', 'third floor', 'Seattle HQ'];
const FIRST = ['Megan', 'Alex', 'Adele', 'Diego', 'Grady', 'Henrietta', 'Isaiah', 'Johanna', 'Lee', 'Lidia', 'Lynne', 'Miriam', 'Nestor', 'Patti', 'Pradeep', 'Zoë', 'José', 'Ana', 'Wei', 'Fatima'];
const LAST = ['Bowen', 'Wilber', 'Vance', 'Siciliani', 'Archie', 'Cantrell', 'Hamilton', 'Lambert', 'Gu', 'Holloway', 'Robbins', 'Smith', 'Wilke', 'Fernandez', 'Kohli', 'Müller', 'García', 'Chen', 'Haddad', 'Okafor'];

/** Words people would type to find these tickets (and some they would not find). */
export const SEARCH_WORDS = ['printer', 'laptop', 'vpn', 'outlook', 'teams', 'password', 'monitor', 'docking', 'sharepoint', 'onedrive', 'badge', 'wifi', 'phone', 'invoice', 'payroll', 'license', 'keyboard', 'calendar', 'mailbox', 'excel', 'crashing', 'slow', 'denied', 'connect', 'reset', 'update', 'sync', 'blank', 'locked', 'paris', 'warehouse', 'munich', 'seattle', 'reception', 'scanner', 'projector'];

export async function giveRealisticText(path: string): Promise<{ requesterNames: string[] }> {
  const database = openDatabase({ kind: 'sqlite', path });
  const db = database.db;
  const requesterNames: string[] = [];
  await db.transaction().execute(async (tx) => {
    const people = await tx.selectFrom('people').select(['id']).where('role', '=', 'requester').orderBy('id').execute();
    for (const [i, p] of people.entries()) {
      const name = `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${i}`;
      requesterNames.push(name);
      const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@contoso.example`;
      await tx.updateTable('people').set({ name, email }).where('id', '=', p.id).execute();
    }
    // One statement: the subject from the ticket's number, so the same seed gives the same desk.
    const pick = (list: string[], expr: string) => `(case ${list.map((w, k) => `when ${expr} % ${list.length} = ${k} then '${w.replace(/'/g, "''")}'`).join(' ')} end)`;
    await sql
      .raw(`update tickets set subject = ${pick(THINGS, 'id')} || ' ' || ${pick(TROUBLES, '(id / 20)')} || ' in ' || ${pick(PLACES, '(id / 240)')} || ' #' || (id % 997)`)
      .execute(tx);
  });
  // Rewriting every subject left the index as 200,000 changes in many segments, which a desk's index
  // never is (the migration builds it in one pass, then automerge keeps up with a ticket at a time):
  // merge it as the migration left it (https://www.sqlite.org/fts5.html#the_optimize_command).
  await sql`insert into ticket_search(ticket_search) values ('optimize')`.execute(db);
  await database.close();
  return { requesterNames };
}
