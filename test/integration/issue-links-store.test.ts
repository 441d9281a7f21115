import { afterEach, describe, expect, it } from 'vitest';
import type { IssueView } from '../../src/domain/issue-trackers.js';
import { addLink, findTrackedIssue, firstDelivery, forgetDelivery, notNewer, issuesOfTicket, issuesToPoll, markPolled, recordSyncedComment, isCommentWeSent, removeLink, saveTrackedIssue, ticketsLinking } from '../../src/store/issue-links.js';
import { engines } from '../support/databases.js';

// The issue-link tables on every engine the desk runs on (SQLite always; Postgres with TEST_DATABASE_URL):
// one row per issue however many tickets link it, links unique per ticket, comments recorded once.

const issue = (key: string, state = 'In Progress', category: IssueView['category'] = 'started'): IssueView => ({ tracker: 'linear', key, title: `Issue ${key}`, url: `https://linear.app/a/issue/${key}`, state, category });

describe.each(engines)('issue link store ($name)', (engine) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('links many tickets to one issue once each, and polls only linked issues that are not done', async () => {
    const opened = await engine.open();
    cleanup = opened.cleanup;
    const db = opened.database.db;
    expect(await saveTrackedIssue(db, issue('ENG-1'), 1_000)).toBeUndefined();
    expect(await saveTrackedIssue(db, issue('ENG-2', 'Done', 'done'), 1_000)).toBeUndefined();
    await saveTrackedIssue(db, issue('ENG-3'), 1_000);
    expect(await addLink(db, { ticketId: 7, tracker: 'linear', key: 'ENG-1', linkedBy: 1 }, 1_000)).toBe(true);
    expect(await addLink(db, { ticketId: 7, tracker: 'linear', key: 'ENG-1', linkedBy: 1 }, 1_001)).toBe(false);
    expect(await addLink(db, { ticketId: 9, tracker: 'linear', key: 'ENG-1', linkedBy: null }, 1_002)).toBe(true);
    await addLink(db, { ticketId: 9, tracker: 'linear', key: 'ENG-2', linkedBy: null }, 1_003);
    expect(await ticketsLinking(db, 'linear', 'ENG-1')).toEqual([7, 9]);
    expect((await issuesOfTicket(db, 9)).map((i) => [i.key, i.category])).toEqual([['ENG-1', 'started'], ['ENG-2', 'done']]);

    // ENG-3 is linked by nobody and ENG-2 is done: only ENG-1 is polled, and not again until it is due.
    expect((await issuesToPoll(db, 5_000, 10)).map((i) => i.key)).toEqual(['ENG-1']);
    await markPolled(db, 'linear', 'ENG-1', 5_000);
    expect(await issuesToPoll(db, 4_999, 10)).toEqual([]);
    expect((await issuesToPoll(db, 5_000, 10)).map((i) => i.key)).toEqual(['ENG-1']);

    const before = await saveTrackedIssue(db, issue('ENG-1', 'Done', 'done'), 6_000);
    expect(before).toMatchObject({ state: 'In Progress', updatedAt: 1_000, lastPolledAt: 5_000 });
    expect(await removeLink(db, 7, 'linear', 'ENG-1')).toBe(true);
    expect(await removeLink(db, 7, 'linear', 'ENG-1')).toBe(false);
    expect(await ticketsLinking(db, 'linear', 'ENG-1')).toEqual([9]);
  });

  it('keeps when the tracker last changed an issue, and knows an older view of it', async () => {
    const opened = await engine.open();
    cleanup = opened.cleanup;
    const db = opened.database.db;
    await saveTrackedIssue(db, { ...issue('ENG-1', 'Done', 'done'), changedAt: 2_000 }, 1_000);
    const stored = (await findTrackedIssue(db, 'linear', 'ENG-1'))!;
    expect(stored.changedAt).toBe(2_000);
    expect(notNewer({ ...issue('ENG-1'), changedAt: 1_500 }, stored)).toBe(true);
    expect(notNewer({ ...issue('ENG-1', 'Done', 'done'), changedAt: 2_000 }, stored)).toBe(true);
    expect(notNewer({ ...issue('ENG-1'), changedAt: 2_001 }, stored)).toBe(false);
    // A view without the tracker's time cannot be ordered: it is applied, and the known time is kept.
    expect(notNewer(issue('ENG-1'), stored)).toBe(false);
    await saveTrackedIssue(db, issue('ENG-1'), 3_000);
    expect((await findTrackedIssue(db, 'linear', 'ENG-1'))?.changedAt).toBe(2_000);
  });

  it('records a carried comment once per ticket and knows the ones the desk sent', async () => {
    const opened = await engine.open();
    cleanup = opened.cleanup;
    const db = opened.database.db;
    expect(await recordSyncedComment(db, { tracker: 'jira', commentId: '10001', ticketId: 1, direction: 'to-ticket' }, 1)).toBe(true);
    expect(await recordSyncedComment(db, { tracker: 'jira', commentId: '10001', ticketId: 1, direction: 'to-ticket' }, 2)).toBe(false);
    expect(await recordSyncedComment(db, { tracker: 'jira', commentId: '10001', ticketId: 2, direction: 'to-ticket' }, 2)).toBe(true);
    expect(await isCommentWeSent(db, 'jira', '10001')).toBe(false);
    await recordSyncedComment(db, { tracker: 'jira', commentId: '10002', ticketId: 1, direction: 'to-tracker' }, 3);
    expect(await isCommentWeSent(db, 'jira', '10002')).toBe(true);
    expect(await isCommentWeSent(db, 'linear', '10002')).toBe(false);
  });
});

describe.each(engines)('tracker webhook deliveries ($name)', (engine) => {
  it('refuses a delivery seen before, per tracker, for as long as it is kept', async () => {
    const { database, cleanup } = await engine.open();
    try {
      const db = database.db;
      expect(await firstDelivery(db, 'jira', ['d-1', 'sha256:a'], 1_000, 60_000)).toBe(true);
      expect(await firstDelivery(db, 'jira', ['d-1', 'sha256:a'], 50_000, 60_000)).toBe(false);
      // The same body under a new delivery id (the header is not signed): seen.
      expect(await firstDelivery(db, 'jira', ['d-2', 'sha256:a'], 50_000, 60_000)).toBe(false);
      expect(await firstDelivery(db, 'linear', ['d-1', 'sha256:a'], 50_000, 60_000)).toBe(true);
      // A delivery that could not be applied is forgotten: its retry is first again.
      await forgetDelivery(db, 'linear', ['d-1', 'sha256:a']);
      expect(await firstDelivery(db, 'linear', ['d-1', 'sha256:a'], 50_001, 60_000)).toBe(true);
      // Older than kept: forgotten (the tracker's own freshness check refuses such a delivery anyway).
      expect(await firstDelivery(db, 'jira', ['d-1', 'sha256:a'], 120_000, 60_000)).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
