import { readFileSync, readdirSync } from 'node:fs';
import { classify } from './src/domain/mail/classify.ts';
import { readDeliveryReport } from './src/domain/mail/delivery-report.ts';
import { header } from './src/domain/mail/message.ts';
import { prepare, CORPUS, OWN_ADDRESSES, verdictOf } from './bench/mail-bounces.ts';
const root = new URL(CORPUS).pathname;
const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.eml')).sort();
for (const f of files) {
  try {
    const { mail, attachmentTypes, parts } = await prepare(readFileSync(root + f));
    const v = classify(mail, OWN_ADDRESSES, attachmentTypes);
    const r = readDeliveryReport(mail, parts);
    const h = ['auto-submitted','precedence','x-autoreply','list-id','return-path'].map(n=>header(mail,n)!==undefined?`${n}=${(header(mail,n)??'').slice(0,20)}`:'').filter(Boolean).join(' ');
    console.log([f, verdictOf(v), ('because' in v ? v.because : ''), mail.from?.address ?? '-', mail.subject.slice(0,50), h, v.kind==='bounce'? r.kind + ' ' + r.recipients.map(x=>`${x.address}|${x.status}|${x.action}|${x.diagnostic?.slice(0,70)}|${x.remoteMta}`).join(' ; ') + ' ids=' + r.originalMessageIds.join(',') + ' subj=' + r.originalSubject + ' mta=' + r.reportingMta : ''].join('\t'));
  } catch (e) { console.log(f, 'ERROR', (e as Error).message); }
}
