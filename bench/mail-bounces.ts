import { readFileSync } from 'node:fs';
import PostalMime from 'postal-mime';
import { classify, type MailClass } from '../src/domain/mail/classify.js';
import { readDeliveryReport, reportPartsOf, type DeliveryReport, type ReportPart } from '../src/domain/mail/delivery-report.js';
import type { InboundMail, MailAttachment } from '../src/domain/mail/message.js';
import { parseGraphMessage } from '../src/integrations/graph/message-schema.js';
import { parseEml } from '../test/fakes/mail-message.js';

/**
 * Bounce and auto-reply detection on the public corpus in test/fixtures/email/bounces/ (labels.tsv
 * says what each message is): every message goes the way intake sees it, raw → Graph's JSON
 * (test/fakes/mail-message.ts) → parseGraphMessage → classify, and bounces through
 * readDeliveryReport. Reports accuracy, precision and recall per class, what still fails, and the
 * time per message (the baseline: parsing the message into Graph's shape, which every message pays
 * anyway).
 */

export const CORPUS = new URL('../test/fixtures/email/bounces/', import.meta.url);
export const OWN_ADDRESSES: ReadonlySet<string> = new Set(['support@contoso.example']);

/** The classes of labels.tsv: classify's kinds, with feedback reports apart from delivery reports. */
export type Expected = 'person' | 'own' | 'auto-reply' | 'mailing-list' | 'bounce' | 'feedback';
export const CLASSES: readonly Expected[] = ['person', 'auto-reply', 'mailing-list', 'bounce', 'feedback', 'own'];

export interface Label {
  file: string;
  expected: Expected;
  /** For bounces: the failed recipients the report names, in order. */
  recipients: string[];
  /** For bounces: the RFC 3463 status of the first recipient, when the report states one. */
  status: string | null;
}

export function readLabels(): Label[] {
  return readFileSync(new URL('labels.tsv', CORPUS), 'utf8')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#') && !line.startsWith('file\t'))
    .map((line) => {
      const [file, expected, recipients, status] = line.split('\t');
      return { file: file!, expected: expected as Expected, recipients: recipients ? recipients.split(',').filter(Boolean) : [], status: status || null };
    });
}

export interface Prepared {
  mail: InboundMail;
  attachmentTypes: string[];
  parts: ReportPart[];
}

/** A raw message as intake has it: the Graph message, its attachments' types, and their texts (item attachments fetched as MIME). */
export async function prepare(raw: Buffer): Promise<Prepared> {
  const { message, attachments } = await parseEml(raw);
  const parsed = parseGraphMessage(message);
  if (!parsed.ok) throw new Error(parsed.problem);
  const listed: MailAttachment[] = attachments.map((a) => ({
    id: a.id,
    kind: a['@odata.type'] === '#microsoft.graph.itemAttachment' ? 'item' : 'file',
    name: a.name,
    contentType: a.contentType,
    size: a.size,
    isInline: a.isInline,
    contentId: a.contentId,
    contentBytes: a.contentBytes ?? null,
  }));
  const parts = reportPartsOf(listed);
  // Graph lists an attached message as an item attachment without its bytes; intake fetches its MIME ($value).
  if (listed.some((a) => a.kind === 'item')) {
    const email = await PostalMime.parse(new Uint8Array(raw), { attachmentEncoding: 'arraybuffer' });
    for (const a of email.attachments) {
      if (a.mimeType !== 'message/rfc822') continue;
      parts.push({ contentType: a.mimeType, text: Buffer.from(a.content as ArrayBuffer).toString('utf8') });
    }
  }
  return { mail: parsed.mail, attachmentTypes: listed.map((a) => a.contentType), parts };
}

export const verdictOf = (c: MailClass): Expected => (c.kind === 'bounce' && c.report === 'feedback' ? 'feedback' : c.kind);

export interface CorpusResult {
  label: Label;
  got: Expected;
  because: string | null;
  report: DeliveryReport | null;
  /** classify + readDeliveryReport, ms. */
  detectMs: number;
  /** parsing into Graph's shape, ms (the baseline). */
  parseMs: number;
}

export async function runCorpus(labels: readonly Label[] = readLabels()): Promise<CorpusResult[]> {
  const results: CorpusResult[] = [];
  for (const label of labels) {
    const raw = readFileSync(new URL(label.file, CORPUS));
    const p0 = performance.now();
    const { mail, attachmentTypes, parts } = await prepare(raw);
    const t0 = performance.now();
    const verdict = classify(mail, OWN_ADDRESSES, attachmentTypes);
    const report = verdict.kind === 'bounce' || label.expected === 'bounce' ? readDeliveryReport(mail, parts) : null;
    const t1 = performance.now();
    results.push({ label, got: verdictOf(verdict), because: 'because' in verdict ? verdict.because : null, report, detectMs: t1 - t0, parseMs: t0 - p0 });
  }
  return results;
}

export interface ClassScore {
  expected: number;
  predicted: number;
  correct: number;
  precision: number;
  recall: number;
}

export interface Scores {
  messages: number;
  accuracy: number;
  perClass: Record<Expected, ClassScore>;
  /** Of the labelled bounces whose report names recipients: how many name exactly the labelled ones, and with the labelled status. */
  recipients: { checked: number; exact: number; status: { checked: number; exact: number } };
  failures: string[];
}

export function score(results: readonly CorpusResult[]): Scores {
  const perClass = Object.fromEntries(CLASSES.map((c) => [c, { expected: 0, predicted: 0, correct: 0, precision: 1, recall: 1 }])) as Record<Expected, ClassScore>;
  const failures: string[] = [];
  let correct = 0;
  const recipients = { checked: 0, exact: 0, status: { checked: 0, exact: 0 } };
  for (const r of results) {
    perClass[r.label.expected].expected++;
    perClass[r.got].predicted++;
    if (r.got === r.label.expected) {
      correct++;
      perClass[r.got].correct++;
    } else failures.push(`${r.label.file}: expected ${r.label.expected}, got ${r.got}${r.because ? ` (${r.because})` : ''}`);
    if (r.label.expected === 'bounce' && r.label.recipients.length > 0) {
      recipients.checked++;
      const found = r.report?.recipients.map((x) => x.address) ?? [];
      if (found.join(',') === r.label.recipients.join(',')) recipients.exact++;
      else failures.push(`${r.label.file}: expected recipients ${r.label.recipients.join(',')}, got ${found.join(',') || 'none'}`);
      if (r.label.status) {
        recipients.status.checked++;
        const status = r.report?.recipients[0]?.status ?? null;
        if (status === r.label.status) recipients.status.exact++;
        else failures.push(`${r.label.file}: expected status ${r.label.status}, got ${status ?? 'none'}`);
      }
    }
  }
  for (const c of Object.values(perClass)) {
    c.precision = c.predicted === 0 ? 1 : c.correct / c.predicted;
    c.recall = c.expected === 0 ? 1 : c.correct / c.expected;
  }
  return { messages: results.length, accuracy: results.length === 0 ? 0 : correct / results.length, perClass, recipients, failures };
}

export async function benchBounceDetection(options: { rounds?: number } = {}) {
  const labels = readLabels();
  let results = await runCorpus(labels);
  // Later rounds for steadier timings; the verdicts are the same every round.
  for (let i = 1; i < (options.rounds ?? 3); i++) {
    const again = await runCorpus(labels);
    results = results.map((r, j) => ({ ...r, detectMs: Math.min(r.detectMs, again[j]!.detectMs), parseMs: Math.min(r.parseMs, again[j]!.parseMs) }));
  }
  const detect = results.map((r) => r.detectMs).sort((a, b) => a - b);
  const parse = results.map((r) => r.parseMs).sort((a, b) => a - b);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    scores: score(results),
    timing: {
      detectTotalMs: sum(detect),
      detectP50Ms: detect[Math.floor(detect.length / 2)] ?? 0,
      detectMaxMs: detect.at(-1) ?? 0,
      parseTotalMs: sum(parse),
    },
  };
}

export function reportBounceDetection(result: Awaited<ReturnType<typeof benchBounceDetection>>): string {
  const { scores, timing } = result;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rows = CLASSES.filter((c) => scores.perClass[c].expected + scores.perClass[c].predicted > 0).map((c) => {
    const s = scores.perClass[c];
    return `  ${c.padEnd(13)} ${String(s.expected).padStart(4)} labelled  ${String(s.predicted).padStart(4)} detected  precision ${pct(s.precision).padStart(6)}  recall ${pct(s.recall).padStart(6)}`;
  });
  return [
    `${scores.messages} messages, accuracy ${pct(scores.accuracy)}`,
    ...rows,
    `  recipients of ${scores.recipients.checked} bounces read exactly: ${scores.recipients.exact}; status of ${scores.recipients.status.checked}: ${scores.recipients.status.exact}`,
    `  time: classify + read report ${timing.detectTotalMs.toFixed(1)} ms for the corpus (median ${timing.detectP50Ms.toFixed(3)} ms, max ${timing.detectMaxMs.toFixed(2)} ms a message); baseline, parsing the same messages into Graph's shape: ${timing.parseTotalMs.toFixed(1)} ms (${(timing.detectTotalMs / timing.parseTotalMs).toFixed(2)}×)`,
    ...(scores.failures.length > 0 ? ['  still wrong:', ...scores.failures.map((f) => `    ${f}`)] : ['  nothing wrong']),
  ].join('\n');
}
