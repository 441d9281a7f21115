import { afterEach, describe, expect, it } from 'vitest';
import { composeEml } from '../../fakes/mail-message.js';
import { startHarness, type Harness } from '../../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

describe('email intake', () => {
  it('turns a new email into a ticket and acknowledges it in the same thread', async () => {
    h = await startHarness({ mail: true });
    const delivered = await h.graph.deliver(composeEml({ from: 'dana@fabrikam.example', fromName: 'Dana Ruiz', subject: 'Printer on floor 3 is jammed', text: 'It shows error E-42.\n\nThanks,\nDana' }));
    await h.syncMail();
    const ticket = await h.service.database.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
    expect(ticket).toMatchObject({ subject: 'Printer on floor 3 is jammed', source: 'email', status: 'new' });
    const [ack] = await h.graph.waitForSent(1);
    expect(ack!.to).toEqual(['dana@fabrikam.example']);
    expect(ack!.subject).toBe(`RE: Printer on floor 3 is jammed [${ticket.reference}]`);
    expect(ack!.inReplyTo).toBe(delivered.internetMessageId);
    expect(ack!.headers.find((x) => x.name.toLowerCase() === 'auto-submitted')?.value).toBe('auto-replied');
  });
});
