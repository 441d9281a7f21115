import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/domain/mail/classify.js';
import { htmlToText, newPartOf } from '../../src/domain/mail/content.js';
import { parseGraphMessage } from '../../src/integrations/graph/message-schema.js';
import { composeEml, parseEml } from '../fakes/mail-message.js';

const OWN = new Set(['support@contoso.example']);
const dir = new URL('../fixtures/email/', import.meta.url);

async function mailOf(raw: string | Buffer) {
  const parsed = parseGraphMessage((await parseEml(raw)).message);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.mail;
}
const fixture = (name: string) => mailOf(readFileSync(new URL(name, dir)));

describe('which mail never opens a ticket', () => {
  it('lets a person through', async () => {
    expect(classify(await fixture('support.eml'), OWN)).toEqual({ kind: 'person' });
    expect(classify(await fixture('only_html.eml'), OWN)).toEqual({ kind: 'person' });
  });

  it('spots auto-replies by X-Autoreply, Auto-Submitted and Precedence (chatwoot corpus)', async () => {
    expect(classify(await fixture('auto_reply.eml'), OWN)).toMatchObject({ kind: 'auto-reply', because: 'x-autoreply: yes' });
    expect(classify(await fixture('auto_reply_with_auto_submitted.eml'), OWN)).toMatchObject({ kind: 'auto-reply', because: 'Auto-Submitted: auto-generated' });
    expect(classify(await fixture('non_utf_encoded_mail.eml'), OWN)).toMatchObject({ kind: 'auto-reply' });
  });

  it('respects Auto-Submitted: no, which means a person wrote it', async () => {
    const mail = await mailOf(composeEml({ from: 'a@fabrikam.example', subject: 'Hi', text: 'x', headers: { 'Auto-Submitted': 'no' } }));
    expect(classify(mail, OWN)).toEqual({ kind: 'person' });
  });

  it('spots the other robots', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ 'X-Autorespond': 'Out of office' }, 'auto-reply'],
      [{ 'X-Auto-Response-Suppress': 'All' }, 'auto-reply'],
      [{ Precedence: 'junk' }, 'auto-reply'],
      [{ Precedence: 'list' }, 'mailing-list'],
      [{ 'List-Id': '<dev.lists.example>' }, 'mailing-list'],
    ];
    for (const [headers, kind] of cases) {
      const mail = await mailOf(composeEml({ from: 'robot@fabrikam.example', subject: 'Hello', text: 'x', headers }));
      expect(classify(mail, OWN).kind, JSON.stringify(headers)).toBe(kind);
    }
    const ooo = await mailOf(composeEml({ from: 'a@fabrikam.example', subject: 'Automatic reply: VPN', text: 'I am away' }));
    expect(classify(ooo, OWN).kind).toBe('auto-reply');
  });

  it('spots bounces: DSN reports and mailer-daemon (postal-mime, mailparser, chatwoot corpora)', async () => {
    expect(classify(await fixture('postal-mime-bounce.eml'), OWN).kind).toBe('bounce');
    expect(classify(await fixture('mailparser-delivery-status.eml'), OWN).kind).toBe('bounce');
    expect(classify(await fixture('bounced_gmail.eml'), OWN).kind).toBe('bounce');
  });

  it('spots our own mailbox, whatever the case of the address', async () => {
    const mail = await mailOf(composeEml({ from: 'Support@Contoso.example', subject: 'RE: x', text: 'x' }));
    expect(classify(mail, OWN)).toEqual({ kind: 'own' });
  });

  it('reads every malformed message of the mikel/mail corpus without crashing', async () => {
    const folder = new URL('mikel-error-emails/', dir);
    const files = readdirSync(folder).filter((f) => f.endsWith('.eml'));
    expect(files.length).toBeGreaterThan(25);
    for (const file of files) {
      const graph = (await parseEml(readFileSync(new URL(file, folder)))).message;
      const parsed = parseGraphMessage(graph);
      if (!parsed.ok) continue; // recorded as poison by the sync, which is the point
      const text = parsed.mail.body.type === 'html' ? htmlToText(parsed.mail.body.content) : parsed.mail.body.content;
      expect(typeof newPartOf(text)).toBe('string');
      expect(['person', 'auto-reply', 'mailing-list', 'bounce', 'own']).toContain(classify(parsed.mail, OWN).kind);
    }
  });
});
