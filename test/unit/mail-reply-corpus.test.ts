import { describe, expect, it } from 'vitest';
import { newPartOf } from '../../src/domain/mail/content.js';
import { bodyText, loadReplyCorpus } from '../fixtures/email/replies/corpus.js';

// The reply corpus (test/fixtures/email/replies/, provenance in its PROVENANCE.md): public fixtures with
// their upstream expectations and our own samples, per language and client. `npm run bench --
// mail-quality` prints the same accuracy per language and client, beside the email-reply-parser package.

const corpus = loadReplyCorpus();
const results = corpus.map((c) => ({ ...c, got: newPartOf(bodyText(c)) }));
const failing = results.filter((r) => r.got !== r.want);

/** Languages and clients issue 15 asks us to read right: the corpus must keep covering each. */
const LANGUAGES = ['English', 'German', 'French', 'Spanish', 'Italian', 'Dutch', 'Portuguese', 'Danish', 'Swedish', 'Norwegian', 'Finnish', 'Polish', 'Hungarian', 'Czech', 'Russian', 'Japanese', 'Chinese'];
const CLIENTS = ['Gmail', 'Outlook', 'Outlook 2003', 'Outlook 365', 'Outlook on the web', 'Apple Mail', 'iOS Mail', 'Android Gmail', 'Thunderbird', 'Yahoo Mail', 'AOL Mail', 'Hotmail / Outlook.com', 'mail.ru', 'Yandex Mail', 'Windows Mail'];

describe('reply corpus', () => {
  it('covers every language and client the issue names, with both plain-text and HTML bodies', () => {
    const languages = new Set(corpus.map((c) => c.language));
    const clients = new Set(corpus.map((c) => c.client));
    expect(LANGUAGES.filter((l) => !languages.has(l))).toEqual([]);
    expect(CLIENTS.filter((c) => !clients.has(c))).toEqual([]);
    expect(corpus.filter((c) => c.html).length).toBeGreaterThanOrEqual(15);
    expect(corpus.length).toBeGreaterThanOrEqual(100);
  });

  it('finds the exact new part of at least 95% of the emails', () => {
    const accuracy = (results.length - failing.length) / results.length;
    const report = failing.map((f) => `${f.file} [${f.language}, ${f.client}]\n  got:  ${JSON.stringify(f.got.slice(0, 200))}\n  want: ${JSON.stringify(f.want.slice(0, 200))}`).join('\n');
    expect(accuracy, `accuracy ${(accuracy * 100).toFixed(1)}%; failing:\n${report}`).toBeGreaterThanOrEqual(0.95);
  });

  it('never drops a quote-free email to nothing and never shows quoted history as new', () => {
    for (const r of results) {
      expect(r.got, r.file).not.toBe('');
      expect(r.got.split('\n').filter((l) => l.startsWith('>')), r.file).toEqual([]);
    }
  });
});
