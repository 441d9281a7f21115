import { cardMessage } from '../cards/adaptive-card.js';
import { digestCard } from '../cards/digest-card.js';
import { addDays, localParts, localToInstant } from '../domain/business-time.js';
import type { SlaPolicy } from '../domain/sla.js';
import { findPersonalConversation } from '../store/conversation-references.js';
import type { Database, Db } from '../store/database.js';
import { claimDigest, digestSent } from '../store/digests.js';
import { enqueue } from '../store/outbox.js';
import { listAgents } from '../store/people.js';
import { channelFor } from '../store/support-teams.js';
import { openTicketsDueBetween, ticketsBreachedBetween } from '../store/tickets.js';
import type { ReportService } from './reports.js';

/** When in the recipient's morning the digest goes out. */
const DIGEST_MINUTE = 8 * 60;

/**
 * The daily digest: each agent, in their own morning, gets what of theirs is due today and what
 * breached yesterday, with their SLA attainment and open-ticket trend; the triage channel gets the same
 * for everyone. Once per recipient and local day.
 */
export class DigestService {
  constructor(private readonly deps: { database: Database; policy: SlaPolicy; reports: ReportService; clock?: () => number; onEnqueued?: () => void }) {}

  private get db(): Db {
    return this.deps.database.db;
  }

  /** Sends the digests whose morning has come; returns how many went out. */
  async sendDue(): Promise<number> {
    const now = (this.deps.clock ?? Date.now)();
    const defaultZone = this.deps.policy.calendars[this.deps.policy.calendarOf.default]!.timeZone;
    let sent = 0;
    for (const agent of await listAgents(this.db, 1_000)) {
      const chat = await findPersonalConversation(this.db, { aadObjectId: agent.aadObjectId, teamsId: agent.teamsId });
      if (!chat) continue;
      if (await this.send(`person:${agent.id}`, chat.id, agent.timeZone ?? defaultZone, now, 'Your day', agent.id)) sent += 1;
    }
    const triage = await channelFor(this.db, 'triage');
    if (triage && (await this.send(`conversation:${triage.conversationRefId}`, triage.conversationRefId, defaultZone, now, "The team's day", null))) sent += 1;
    if (sent > 0) this.deps.onEnqueued?.();
    return sent;
  }

  private async send(recipient: string, conversationRefId: number, timeZone: string, now: number, title: string, assigneeId: number | null): Promise<boolean> {
    const local = localParts(now, timeZone);
    if (local.minute < DIGEST_MINUTE) return false;
    const date = { year: local.year, month: local.month, day: local.day };
    const day = `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
    if (await digestSent(this.db, recipient, day)) return false;
    // Read before the transaction: on SQLite a query outside an open transaction would wait for it.
    const report = await this.deps.reports.build({ timeZone, ...(assigneeId !== null ? { assigneeId, scope: 'your tickets' } : { scope: 'the team' }) });
    const reportHasNews = report.trend.at(-1)!.open > 0 || report.windows.some((w) => w.byPriority.some((a) => a.decided > 0));
    const todayStart = localToInstant(date, 0, timeZone);
    const tomorrowStart = localToInstant(addDays(date, 1), 0, timeZone);
    const yesterdayStart = localToInstant(addDays(date, -1), 0, timeZone);

    return this.db.transaction().execute(async (tx) => {
      if (!(await claimDigest(tx, recipient, day, now))) return false;
      const dueToday = await openTicketsDueBetween(tx, { from: todayStart, to: tomorrowStart, assigneeId }, 100);
      const breachedYesterday = await ticketsBreachedBetween(tx, { from: yesterdayStart, to: todayStart, assigneeId }, 100);
      if (dueToday.length === 0 && breachedYesterday.length === 0 && !reportHasNews) return false;
      const dayLabel = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short' }).format(now);
      const card = digestCard({ title, day: dayLabel, dueToday, breachedYesterday, report });
      await enqueue(tx, [{ idempotencyKey: `digest:${recipient}:${day}`, operation: 'send', conversationRefId, activity: cardMessage(card, card.fallbackText) }], now);
      return true;
    });
  }
}
