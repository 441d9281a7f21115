import EmailReplyParser from 'email-reply-parser';
import { newPartOf, tidy } from '../src/domain/mail/content.js';
import { bodyText, loadReplyCorpus, type ReplyCase } from '../test/fixtures/email/replies/corpus.js';

/**
 * Reply quality: on the corpus in test/fixtures/email/replies/ (public fixtures and our own samples,
 * see its PROVENANCE.md), the share of emails whose new part comes out exactly as expected (after
 * the same whitespace tidying on both sides), per language, per client and overall, for our rules
 * (src/domain/mail/reply-text.ts) and, side by side on the same text, for the email-reply-parser
 * package (crisp-oss, https://github.com/crisp-oss/email-reply-parser) without its optional re2.
 * HTML bodies go through our htmlToText first for both (the package reads plain text only).
 */

export interface CaseResult extends Omit<ReplyCase, 'body' | 'html'> {
  ours: string;
  library: string;
  oursOk: boolean;
  libraryOk: boolean;
}

export function benchMailQuality(): { cases: CaseResult[]; oursMs: number; libraryMs: number } {
  const parser = new EmailReplyParser();
  let oursMs = 0;
  let libraryMs = 0;
  const cases = loadReplyCorpus().map((c) => {
    const text = bodyText(c);
    let t = performance.now();
    const ours = newPartOf(text);
    oursMs += performance.now() - t;
    t = performance.now();
    const library = tidy(parser.read(text).getVisibleText());
    libraryMs += performance.now() - t;
    return { file: c.file, expected: c.expected, language: c.language, client: c.client, want: c.want, ours, library, oursOk: ours === c.want, libraryOk: library === c.want };
  });
  return { cases, oursMs, libraryMs };
}

const pct = (ok: number, all: number) => `${((ok / all) * 100).toFixed(1)}% (${ok}/${all})`;

function table(cases: CaseResult[], key: 'language' | 'client' | 'source'): string[] {
  const groups = new Map<string, CaseResult[]>();
  const keyOf = (c: CaseResult) => (key === 'source' ? c.file.split('/')[0]! : c[key]);
  for (const c of cases) groups.set(keyOf(c), [...(groups.get(keyOf(c)) ?? []), c]);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, group]) => `  ${name.padEnd(24)} ours ${pct(group.filter((c) => c.oursOk).length, group.length).padEnd(16)} email-reply-parser ${pct(group.filter((c) => c.libraryOk).length, group.length)}`);
}

export function reportMailQuality(r: ReturnType<typeof benchMailQuality>): string {
  const all = r.cases.length;
  const ours = r.cases.filter((c) => c.oursOk).length;
  const library = r.cases.filter((c) => c.libraryOk).length;
  const failing = r.cases.filter((c) => !c.oursOk);
  return [
    `reply new part, exact match on ${all} emails: ours ${pct(ours, all)} in ${r.oursMs.toFixed(1)} ms; email-reply-parser ${pct(library, all)} in ${r.libraryMs.toFixed(1)} ms`,
    'per source (crisp, github, discourse: public fixtures; ours: written with the rules, see PROVENANCE.md):',
    ...table(r.cases, 'source'),
    'per language:',
    ...table(r.cases, 'language'),
    'per client:',
    ...table(r.cases, 'client'),
    failing.length === 0 ? 'ours fails on: none' : `ours fails on (${failing.length}):`,
    ...failing.map((c) => `  ${c.file} [${c.language}, ${c.client}]: got ${JSON.stringify(c.ours.slice(0, 160))}, want ${JSON.stringify(c.want.slice(0, 160))}`),
  ].join('\n');
}
