import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORPUS, OWN_ADDRESSES, prepare, readLabels, runCorpus, score, type CorpusResult } from '../../bench/mail-bounces.js';
import { classify } from '../../src/domain/mail/classify.js';
import { composeEml } from '../fakes/mail-message.js';

// The public corpus of test/fixtures/email/bounces/ (PROVENANCE.md: sisimai, chatwoot, mikel/mail,
// postal-mime, mailparser), each message through the path intake takes: raw → Graph's JSON → classify,
// and bounces → readDeliveryReport. labels.tsv says what each one is.

describe('bounce and auto-reply detection on the public corpus', () => {
  let results: CorpusResult[] | undefined;
  const corpus = async () => (results ??= await runCorpus());

  it('is broad: well over a hundred messages, from many mail servers and of every kind', async () => {
    const labels = readLabels();
    expect(labels.length).toBeGreaterThan(150);
    const count = (kind: string) => labels.filter((l) => l.expected === kind).length;
    expect(count('bounce')).toBeGreaterThan(40);
    expect(count('person')).toBeGreaterThan(100);
    expect(count('auto-reply')).toBeGreaterThan(5);
    expect(count('feedback')).toBeGreaterThanOrEqual(2);
  });

  it('classifies at least 99% of the messages right', async () => {
    const scores = score(await corpus());
    expect(scores.accuracy, scores.failures.join('\n')).toBeGreaterThanOrEqual(0.99);
  });

  it('never takes a person’s mail for a robot’s (a customer’s mail filtered away is lost)', async () => {
    const wrong = (await corpus()).filter((r) => r.label.expected === 'person' && r.got !== 'person');
    expect(wrong.map((r) => `${r.label.file}: ${r.got} (${r.because})`)).toEqual([]);
  });

  it('finds nearly every bounce and feedback report, and takes nothing else for one', async () => {
    const { perClass } = score(await corpus());
    expect(perClass.bounce.recall).toBeGreaterThanOrEqual(0.97);
    expect(perClass.bounce.precision).toBe(1);
    expect(perClass.feedback.recall).toBe(1);
    expect(perClass['auto-reply'].recall).toBe(1);
    expect(perClass['auto-reply'].precision).toBe(1);
  });

  it('reads the failed recipients and status of every RFC 3464 report exactly', async () => {
    const standard: string[] = [];
    for (const r of await corpus()) {
      if (r.label.expected !== 'bounce') continue;
      const { parts } = await prepare(readFileSync(new URL(r.label.file, CORPUS)));
      if (!parts.some((p) => /delivery-status/i.test(p.contentType))) continue;
      standard.push(r.label.file);
      expect(r.report?.recipients.map((x) => x.address), r.label.file).toEqual(r.label.recipients);
      if (r.label.status) expect(r.report?.recipients[0]?.status, r.label.file).toBe(r.label.status);
      expect(r.report?.kind, r.label.file).toMatch(/^(failed|delayed)$/);
    }
    expect(standard.length).toBeGreaterThanOrEqual(20);
  });

  it("reads the failed recipients of most servers' own notices too", async () => {
    const { recipients } = score(await corpus());
    expect(recipients.exact / recipients.checked).toBeGreaterThanOrEqual(0.9);
    expect(recipients.status.exact / recipients.status.checked).toBeGreaterThanOrEqual(0.9);
  });

  it("lets people's replies through, whatever they quote (github/email_reply_parser's real replies as the body)", async () => {
    const folder = new URL('../fixtures/email/reply-parser/', import.meta.url);
    const files = readdirSync(folder).filter((f) => f.endsWith('.txt') && !f.startsWith('LICENSE'));
    expect(files.length).toBeGreaterThan(8);
    for (const file of files) {
      const text = readFileSync(new URL(file, folder), 'utf8');
      for (const subject of ['Undeliverable: my order', 'Returned mail', 'Delivery failure of order 4521', 'Out of office setup', 'Re: Automatic reply: VPN']) {
        const { mail } = await prepare(Buffer.from(composeEml({ from: 'kim@fabrikam.example', subject, text })));
        expect(classify(mail, OWN_ADDRESSES), `${file} / ${subject}`).toEqual({ kind: 'person' });
      }
    }
  });
});
