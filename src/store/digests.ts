import type { Db } from './database.js';

/** Which daily digests went out: one row per recipient and local day, so each goes once. */

export async function digestSent(db: Db, recipient: string, day: string): Promise<boolean> {
  return (await db.selectFrom('digests').select('day').where('recipient', '=', recipient).where('day', '=', day).executeTakeFirst()) !== undefined;
}

/** Claims the recipient's digest for the day; false when another sweep (or replica) has it already. */
export async function claimDigest(db: Db, recipient: string, day: string, now: number): Promise<boolean> {
  const claimed = await db
    .insertInto('digests')
    .values({ recipient, day, sent_at: now })
    .onConflict((oc) => oc.columns(['recipient', 'day']).doNothing())
    .returning('day')
    .executeTakeFirst();
  return claimed !== undefined;
}
