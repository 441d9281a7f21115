import type { TrackerName } from '../domain/issue-trackers.js';
import type { Logger } from '../logger.js';
import type { Tracker } from '../integrations/trackers/port.js';
import type { IssueLinks } from '../services/issue-links.js';
import type { Db } from '../store/database.js';
import { issuesToPoll, markPolled } from '../store/issue-links.js';
import { PollingLoop } from './polling-loop.js';

/**
 * The safety net under the trackers' webhooks (a delivery lost, a webhook never set up): every linked
 * issue not done or canceled is read again every `intervalMs`, and what changed is applied the same way
 * a webhook would (IssueLinks.issueChanged does nothing when the state is the one already known, or
 * when the read is not newer, by the tracker's own change time, than what a webhook already applied).
 */
export class IssuePoller {
  private readonly loop: PollingLoop;
  /** Per tracker, the last read that failed (for health); cleared by a round whose reads of it all worked. */
  private readonly lastErrors = new Map<TrackerName, string>();

  constructor(
    private readonly deps: { db: Db; trackers: ReadonlyMap<TrackerName, Tracker>; issues: IssueLinks; logger: Logger; intervalMs: number; clock?: () => number },
  ) {
    this.loop = new PollingLoop({
      round: () => this.pollOnce(),
      idleDelay: async () => deps.intervalMs,
      onError: (error) => deps.logger.error({ err: error }, 'polling the issue trackers failed'),
    });
  }

  /** One round: the issues due a look. Returns how many were read. */
  async pollOnce(): Promise<number> {
    const now = (this.deps.clock ?? Date.now)();
    const due = await issuesToPoll(this.deps.db, now - this.deps.intervalMs, 50);
    let read = 0;
    const failed = new Map<TrackerName, string>();
    for (const known of due) {
      const tracker = this.deps.trackers.get(known.tracker);
      if (!tracker) continue;
      try {
        const issue = await tracker.getIssue(known.key);
        if (issue) await this.deps.issues.issueChanged(issue);
        read++;
      } catch (error) {
        failed.set(known.tracker, `${known.key}: ${(error as Error).message}`);
        this.deps.logger.warn({ tracker: known.tracker, issue: known.key, err: (error as Error).message }, 'could not read a linked issue; trying again next round');
      }
      // Marked either way: a failing issue waits a round rather than holding up the rest.
      await markPolled(this.deps.db, known.tracker, known.key, now);
    }
    for (const tracker of new Set(due.map((d) => d.tracker))) {
      const error = failed.get(tracker);
      if (error) this.lastErrors.set(tracker, error);
      else this.lastErrors.delete(tracker);
    }
    return read;
  }

  lastErrorOf(tracker: TrackerName): string | undefined {
    return this.lastErrors.get(tracker);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
