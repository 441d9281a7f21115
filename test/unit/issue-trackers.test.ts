import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { actionsFor, hexHmac, isOurComment, jiraCategory, linearCategory, linearTimestampCheck, parseIssueRef, trackerCommentText, trackerTime, verifyHexHmac } from '../../src/domain/issue-trackers.js';
import { parseNotifyConfig } from '../../src/notify-config.js';
import { parseCommand } from '../../src/domain/commands.js';
import { adf, adfText } from '../../src/integrations/trackers/jira.js';

describe('issue references', () => {
  it('reads keys, prefixed keys and the trackers’ URLs', () => {
    expect(parseIssueRef('ENG-123')).toEqual({ tracker: undefined, key: 'ENG-123' });
    expect(parseIssueRef('linear:eng-7')).toEqual({ tracker: 'linear', key: 'ENG-7' });
    expect(parseIssueRef('JIRA:OPS-1')).toEqual({ tracker: 'jira', key: 'OPS-1' });
    expect(parseIssueRef('https://linear.app/acme/issue/ENG-123/export-times-out')).toEqual({ tracker: 'linear', key: 'ENG-123' });
    expect(parseIssueRef('<https://contoso.atlassian.net/browse/OPS-42>')).toEqual({ tracker: 'jira', key: 'OPS-42' });
    expect(parseIssueRef('https://jira.contoso.com/browse/OPS-42', ['jira.contoso.com'])).toEqual({ tracker: 'jira', key: 'OPS-42' });
  });

  it('refuses what is not an issue', () => {
    for (const text of ['', 'ENG', '123', 'ENG-', 'https://example.com/browse/OPS-1', 'https://linear.app/acme/project/x', 'not a url://', 'ENG-1 OPS-2', 'slack:ENG-1']) expect(parseIssueRef(text)).toBeUndefined();
  });

  it('parses link, unlink and issues commands with a helpful error when the issue is missing', () => {
    expect(parseCommand('link INC-42 ENG-123')).toEqual({ ok: true, command: { kind: 'link', ref: 42, issue: 'ENG-123' } });
    expect(parseCommand('unlink #42 https://linear.app/a/issue/ENG-1/x')).toEqual({ ok: true, command: { kind: 'unlink', ref: 42, issue: 'https://linear.app/a/issue/ENG-1/x' } });
    expect(parseCommand('issues INC-42')).toEqual({ ok: true, command: { kind: 'issues', ref: 42 } });
    const missing = parseCommand('link INC-42');
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.error).toContain('link INC-1042 ENG-123');
  });
});

describe('states and the status map', () => {
  it('maps Linear state types and Jira status categories to categories', () => {
    expect(['triage', 'backlog', 'unstarted', 'started', 'completed', 'canceled'].map(linearCategory)).toEqual(['todo', 'todo', 'todo', 'started', 'done', 'canceled']);
    expect(['new', 'indeterminate', 'done', 'undefined'].map(jiraCategory)).toEqual(['todo', 'started', 'done', 'todo']);
  });

  it('prefers a state’s name over its category', () => {
    const map = { done: [{ kind: 'pending' as const }], 'in review': [{ kind: 'notify-assignee' as const }] };
    expect(actionsFor(map, 'Done', 'done')).toEqual([{ kind: 'pending' }]);
    expect(actionsFor(map, 'In Review', 'started')).toEqual([{ kind: 'notify-assignee' }]);
    expect(actionsFor(map, 'Shipped', 'done')).toEqual([{ kind: 'pending' }]);
    expect(actionsFor(map, 'In Progress', 'started')).toEqual([]);
  });

  it('reads the trackers section of the rules file, and names the line of a mistake', () => {
    const parsed = parseNotifyConfig('trackers:\n  statusMap:\n    Done: [pending, notify-assignee, reply: "Fixed"]\n  comments: both\n', 'notify.yaml', {});
    expect(parsed).toEqual({ ok: true, config: expect.objectContaining({ trackers: { comments: 'both', statusMap: { done: [{ kind: 'pending' }, { kind: 'notify-assignee' }, { kind: 'reply', text: 'Fixed' }] } } }) });
    const bad = parseNotifyConfig('trackers:\n  statusMap:\n    done: [close-it]\n  comments: sideways\n', 'notify.yaml', {});
    expect(bad.ok).toBe(false);
    const problems = !bad.ok ? bad.problems.join('\n') : '';
    expect(problems).toMatch(/notify\.yaml:3:\d+: trackers\.statusMap\.done\.0: /);
    expect(problems).toMatch(/notify\.yaml:4:\d+: trackers\.comments: use to-ticket, both or none/);
  });
});

describe('webhook signatures and our own comments', () => {
  it('checks a hex HMAC-SHA256 of the raw body, with or without a prefix', () => {
    const raw = '{"a":1}';
    expect(verifyHexHmac('s', raw, hexHmac('s', raw))).toEqual({ ok: true });
    expect(verifyHexHmac('s', raw, `sha256=${hexHmac('s', raw)}`, 'sha256=')).toEqual({ ok: true });
    expect(verifyHexHmac('s', raw, hexHmac('s', raw), 'sha256=').ok).toBe(false);
    expect(verifyHexHmac('s', `${raw} `, hexHmac('s', raw)).ok).toBe(false);
    expect(verifyHexHmac('other', raw, hexHmac('s', raw)).ok).toBe(false);
    expect(verifyHexHmac('s', raw, undefined).ok).toBe(false);
    expect(verifyHexHmac('s', raw, 'short').ok).toBe(false);
  });

  it('accepts Linear’s webhookTimestamp within a minute either way', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(linearTimestampCheck(now - 59_000, now).ok).toBe(true);
    expect(linearTimestampCheck(now + 59_000, now).ok).toBe(true);
    expect(linearTimestampCheck(now - 61_000, now).ok).toBe(false);
    expect(linearTimestampCheck('1', now).ok).toBe(false);
  });

  it('reads the trackers’ change times (Linear’s ISO Z, Jira’s +0000) and nothing else', () => {
    expect(trackerTime('2026-11-23T10:00:00.000Z')).toBe(Date.UTC(2026, 10, 23, 10));
    expect(trackerTime('2026-11-23T10:00:00.000+0000')).toBe(Date.UTC(2026, 10, 23, 10));
    expect(trackerTime('2026-11-23T10:00:00.000+0100')).toBe(Date.UTC(2026, 10, 23, 9));
    for (const bad of [undefined, null, 1, '', 'yesterday']) expect(trackerTime(bad)).toBeUndefined();
  });

  it('tags the comments the desk writes', () => {
    expect(isOurComment(trackerCommentText('INC-1', 'Megan', 'hello'))).toBe(true);
    expect(isOurComment('A person wrote [Service Desk] later on')).toBe(false);
  });

  it('writes and reads Atlassian Document Format', () => {
    expect(adfText(adf('one\n\ntwo'))).toBe('one\n\ntwo');
    expect(adfText('plain')).toBe('plain');
  });
});

describe('tracker configuration', () => {
  const base = { PORT: '0', DATABASE_URL: ':memory:' };
  it('turns Jira on only with all three of its settings', () => {
    const partial = parseConfig({ ...base, JIRA_BASE_URL: 'https://contoso.atlassian.net' });
    expect(partial.ok).toBe(false);
    expect(!partial.ok && partial.problems.join('\n')).toContain('JIRA_EMAIL');
    const full = parseConfig({ ...base, JIRA_BASE_URL: 'https://contoso.atlassian.net/', JIRA_EMAIL: 'a@contoso.com', JIRA_API_TOKEN: 't', LINEAR_API_KEY: 'k' });
    expect(full.ok && full.config.trackers).toMatchObject({ jira: { baseUrl: 'https://contoso.atlassian.net' }, linear: { apiUrl: 'https://api.linear.app/graphql' }, pollIntervalMs: 300_000 });
    const none = parseConfig(base);
    expect(none.ok && none.config.trackers).toMatchObject({ jira: null, linear: null });
  });
});
