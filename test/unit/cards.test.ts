import { describe, expect, it } from 'vitest';
import { ADAPTIVE_CARD_CONTENT_TYPE, cardMessage } from '../../src/cards/adaptive-card.js';
import { VERBS } from '../../src/cards/actions.js';
import { confirmationCard } from '../../src/cards/confirmation-card.js';
import { crmCard } from '../../src/cards/crm-card.js';
import { digestCard } from '../../src/cards/digest-card.js';
import { escalationCard, type EscalationCardData } from '../../src/cards/escalation-card.js';
import { helpCard } from '../../src/cards/help-card.js';
import { historyCard } from '../../src/cards/history-card.js';
import { listCard } from '../../src/cards/list-card.js';
import { DIALOG_VERBS, newTicketDialog, newTicketPromptCard, textDialog } from '../../src/cards/dialog-cards.js';
import { newTicketCard } from '../../src/cards/new-ticket-card.js';
import { reminderCard } from '../../src/cards/reminder-card.js';
import { followUpCard, requestChoiceCard, requestOfferCard } from '../../src/cards/request-cards.js';
import { reportCard, type ReportCardData } from '../../src/cards/report-card.js';
import { slaCard } from '../../src/cards/sla-card.js';
import { statusCard } from '../../src/cards/status-card.js';
import { AGENTS_DATASET, PICKER_FALLBACK_AGENTS, ticketCard, ticketSummary, type TicketCardData } from '../../src/cards/ticket-card.js';
import { personalWelcomeCard, teamWelcomeCard } from '../../src/cards/welcome-card.js';
import type { Ticket } from '../../src/domain/tickets.js';
import { dataQueryErrors, objectModelErrors, schemaErrors } from '../support/card-schema.js';

const now = Date.parse('2026-11-22T12:00:00Z');
const ticket = (overrides: Partial<Ticket> = {}): Ticket => ({
  id: 1042,
  reference: 'INC-1042',
  type: 'incident',
  subject: 'VPN drops every 10 minutes',
  description: 'Since the update',
  status: 'open',
  priority: 'P2',
  requesterId: 1,
  assigneeId: null,
  teamId: null,
  source: 'chat',
  createdAt: now - 3 * 3_600_000,
  updatedAt: now - 300_000,
  firstResponseAt: null,
  resolvedAt: null,
  closedAt: null,
  version: 3,
  tier: 'standard',
  slaClocks: null,
  slaDueAt: null,
  crmStatus: 'none',
  tierSource: 'default',
  crmTicketId: null,
  ...overrides,
});
const data = (overrides: Partial<TicketCardData> = {}): TicketCardData => ({
  ticket: ticket(),
  requesterName: 'Alex Wilber',
  assigneeName: null,
  agents: [{ id: 2, name: 'Megan Bowen' }, { id: 3, name: 'Lee Gu' }],
  latest: { authorName: 'Megan Bowen', body: 'Looking into it', visibility: 'internal' },
  audience: 'agent',
  sla: { text: 'Resolution due in 3h', tone: 'default' },
  now,
  ...overrides,
});

// The cards below are built from plain view models, as any service would fill them in.
const report: ReportCardData = {
  scope: 'the team',
  windows: [
    { days: 7, byPriority: [{ key: 'P1', met: 1, decided: 2 }, { key: 'P2', met: 0, decided: 0 }], byTier: [{ key: 'standard', met: 1, decided: 2 }] },
    { days: 30, byPriority: [{ key: 'P1', met: 3, decided: 4 }, { key: 'P2', met: 2, decided: 2 }], byTier: [{ key: 'standard', met: 5, decided: 6 }] },
  ],
  trend: [{ day: 'Sat 21 Nov', open: 4 }, { day: 'Sun 22 Nov', open: 3 }],
};
const escalation = (overrides: Partial<EscalationCardData['escalation']> = {}): EscalationCardData => ({
  escalation: { id: 7, state: 'open', level: 1, levels: 3, trigger: 'breach', reason: null, startedBy: null, acceptedBy: null, history: [{ level: 0, outcome: 'declined', by: 3, reason: 'on leave' }], ...overrides },
  ticket: ticket({ assigneeId: 2 }),
  requesterName: 'Alex Wilber',
  assigneeName: 'Megan Bowen',
  names: new Map([[2, 'Megan Bowen'], [3, 'Lee Gu']]),
});

const everyCard = {
  'ticket card, agent, unassigned': ticketCard(data()),
  'ticket card, agent, assigned, P1, with notice': ticketCard(data({ ticket: ticket({ assigneeId: 2, priority: 'P1' }), assigneeName: 'Megan Bowen', notice: { text: 'Taken by Megan Bowen', tone: 'good' } })),
  'ticket card, requester, open': ticketCard(data({ audience: 'requester', latest: { authorName: 'Megan Bowen', body: 'Fixed?', visibility: 'public' } })),
  'ticket card, requester, resolved': ticketCard(data({ audience: 'requester', ticket: ticket({ status: 'resolved' }) })),
  'ticket card, SLA breached': ticketCard(data({ sla: { text: 'Resolution breached 1h ago', tone: 'attention' } })),
  'list card': listCard({ kind: 'mine', tickets: [ticket(), ticket({ id: 1043, reference: 'INC-1043', assigneeId: 2 })], names: new Map([[2, 'Megan Bowen']]), page: 1, more: { list: 'mine', after: { updatedAt: 1, id: 2 } }, now }),
  'list card, empty': listCard({ kind: 'unassigned', tickets: [], names: new Map(), page: 1, more: undefined, now }),
  'history card': historyCard(ticket(), [{ at: now, kind: 'created', visibility: 'public', authorName: 'Alex Wilber', body: 'VPN drops' }, { at: now, kind: 'note', visibility: 'internal', authorName: null, body: 'x' }]),
  'new ticket form': newTicketCard(),
  'new ticket form with a problem': newTicketCard({ problem: 'a ticket needs a subject', description: 'x' }),
  'new ticket prompt': newTicketPromptCard(),
  'new ticket dialog': newTicketDialog({ priorities: ['P2', 'P3', 'P4'] }).card.content,
  'new ticket dialog with a problem': newTicketDialog({ problem: 'A ticket needs a subject.', description: 'typed before', type: 'request', priority: 'P4' }).card.content,
  'reply dialog': textDialog('reply', ticket({ source: 'email' }), { byAgent: true }).card.content,
  'internal note dialog with a problem': textDialog('note', ticket(), { byAgent: true, text: 'x'.repeat(9000), problem: 'Too long.' }).card.content,
  'resolve dialog': textDialog('resolve', ticket(), { byAgent: true }).card.content,
  confirmation: confirmationCard('INC-1042 is now assigned to Megan Bowen'),
  help: helpCard([{ usage: 'help', description: 'Show this list.' }], 'personal'),
  'personal welcome': personalWelcomeCard('Megan'),
  'team welcome': teamWelcomeCard('Contoso Support'),
  'SLA warning': slaCard({ kind: 'warning', clock: 'resolution', ticket: ticket(), requesterName: 'Alex Wilber', assigneeName: null, standing: '15m left', snooze: { until: now + 600_000, byName: 'Megan Bowen' }, now }),
  'escalation, open': escalationCard(escalation()),
  'escalation, accepted': escalationCard(escalation({ state: 'accepted', acceptedBy: 2 })),
  'reminder, due': reminderCard({ reminder: { id: 5, state: 'sent', dueAt: now }, ticket: ticket(), assigneeName: 'Megan Bowen' }),
  report: reportCard(report),
  digest: digestCard({ title: 'Your day', day: 'Sun 22 Nov', dueToday: [{ ticket: ticket(), dueAt: now + 3_600_000 }], breachedYesterday: [ticket({ id: 1043, reference: 'INC-1043', priority: 'P1' })], report }),
  status: statusCard({ ready: true, checks: { database: { status: 'ok' }, mailbox: { status: 'down', lastError: 'Graph answered 401' } } }),
  'free text: offer': requestOfferCard({ pending: '8f0e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4', subject: 'VPN drops **every** [10](x) minutes', description: 'VPN drops every 10 minutes\n# on wifi', files: 2 }),
  'free text: which ticket': requestChoiceCard({
    pending: '8f0e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4',
    text: 'x'.repeat(1_000),
    tickets: Array.from({ length: 7 }, (_, i) => ({ id: i + 1, reference: `INC-${i + 1}`, subject: `A subject long enough to be cut short in a button title, number ${i + 1}` })),
  }),
  'free text: follow-up': followUpCard({ pending: '8f0e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4', reference: 'INC-1', subject: 'VPN drops', files: 'Kept on the ticket: log.txt.' }),
  'CRM contact': crmCard({ email: 'alex@contoso.com', found: true, contactName: 'Alex Wilber', companyName: 'Contoso', domain: 'contoso.com', tierValue: 'Gold', tier: 'premium', ownerId: '42', lifecycleStage: 'customer', openDeals: 2, previousTickets: 3, fetchedAt: now, fromCache: true }),
};

describe('every card the bot sends', () => {
  it.each(Object.entries(everyCard))('%s validates against the Adaptive Cards 1.5 schema', (_name, card) => {
    expect(schemaErrors(card)).toEqual([]);
    expect(card.version).toBe('1.5');
  });

  it.each(Object.entries(everyCard))('%s parses cleanly in the adaptivecards object model', (_name, card) => {
    expect(objectModelErrors(card)).toEqual([]);
  });

  it.each(Object.entries(everyCard))('%s has fallback text for clients and screen readers', (_name, card) => {
    expect(card.fallbackText.length).toBeGreaterThan(5);
  });
});

describe('ticket card', () => {
  /** Every button, in order: a panel's inline buttons (ActionSet) before its own. */
  const allActions = (card: { actions?: unknown[] }): Array<Record<string, any>> =>
    (card.actions ?? []).flatMap((a: any) =>
      a.type === 'Action.ShowCard' ? [a, ...a.card.body.filter((e: any) => e.type === 'ActionSet').flatMap((e: any) => e.actions), ...a.card.actions] : [a],
    );
  /** Every input, in the card and in its panels. */
  const inputs = (card: unknown): Array<Record<string, any>> => {
    const found: Array<Record<string, any>> = [];
    JSON.stringify(card, (_k, v) => {
      if (v && typeof v.type === 'string' && v.type.startsWith('Input.')) found.push(v);
      return v;
    });
    return found;
  };

  it('offers agents Take only while nobody has the ticket, opens Reply, Note and Resolve in dialogs, and fits in six buttons', () => {
    const card = ticketCard(data());
    expect(card.actions?.map((a) => a.title)).toEqual(['Take', 'Reply…', 'Note…', 'Resolve…', 'Assign', 'More']);
    const unassigned = allActions(card);
    expect(unassigned.map((a) => a.title)).toEqual(['Take', 'Reply…', 'Note…', 'Resolve…', 'Assign', 'Assign', 'More', 'Set priority', 'Set status', 'Set reminder', 'History']);
    for (const action of unassigned.filter((a) => a.type === 'Action.Execute')) {
      expect(action.data).toEqual({ ticket: 1042 });
      expect(action.fallback).toEqual({ type: 'Action.Submit', title: action.title, data: { ticket: 1042, verb: action.verb } });
    }
    // A dialog button is an Action.Submit that makes Teams send task/fetch, with the dialog's verb.
    const dialogs = unassigned.filter((a) => a.type === 'Action.Submit');
    expect(dialogs.map((a) => a.data)).toEqual([DIALOG_VERBS.reply, DIALOG_VERBS.note, DIALOG_VERBS.resolve].map((verb) => ({ msteams: { type: 'task/fetch' }, verb, ticket: 1042 })));
    const assigned = allActions(ticketCard(data({ ticket: ticket({ assigneeId: 2 }), assigneeName: 'Megan Bowen' })));
    expect(assigned.some((a) => a.verb === VERBS.take)).toBe(false);
    // Nothing to resolve on a resolved ticket.
    const resolved = ticketCard(data({ ticket: ticket({ status: 'resolved', assigneeId: 2 }), assigneeName: 'Megan Bowen' }));
    expect(resolved.actions?.map((a) => a.title)).toEqual(['Reply…', 'Note…', 'Assign', 'More']);
  });

  it('no longer crams a text area for replies into the card', () => {
    for (const card of [ticketCard(data()), ticketCard(data({ audience: 'requester' }))]) {
      expect(inputs(card).filter((i) => i.isMultiline)).toEqual([]);
      expect(inputs(card).some((i) => i.id === 'note')).toBe(false);
    }
  });

  it('assigns with a people picker: typeahead over agents, and a few agents for clients without it', () => {
    const agents = Array.from({ length: 40 }, (_, i) => ({ id: 100 + i, name: `Agent ${i}` }));
    const picker = inputs(ticketCard(data({ agents }))).find((i) => i.id === 'assignee')!;
    expect(picker).toMatchObject({ type: 'Input.ChoiceSet', isRequired: true, 'choices.data': { type: 'Data.Query', dataset: AGENTS_DATASET } });
    expect(picker.choices).toHaveLength(PICKER_FALLBACK_AGENTS);
    expect(picker.choices[0]).toEqual({ title: 'Agent 0', value: '100' });
    // Requesters get no picker at all.
    expect(inputs(ticketCard(data({ audience: 'requester' }))).some((i) => i.id === 'assignee')).toBe(false);
  });

  it('gives requesters no agent actions, and never an internal note', () => {
    const card = ticketCard(data({ audience: 'requester', latest: undefined }));
    expect(allActions(card).map((a) => a.verb ?? a.data?.verb)).toEqual([DIALOG_VERBS.reply, VERBS.history]);
    const closed = ticketCard(data({ audience: 'requester', ticket: ticket({ status: 'closed' }) }));
    expect(allActions(closed).map((a) => a.verb ?? a.data?.verb)).toEqual([VERBS.reopen, VERBS.history]);
  });

  it('shows markdown and HTML in a subject exactly as typed, never as formatting', () => {
    const subject = '**urgent** [click](https://evil.example) <img src=x onerror=alert(1)> # heading';
    const card = ticketCard(data({ ticket: ticket({ subject }), requesterName: '_Bob_ <b>Smith</b>' }));
    const json = JSON.stringify(card);
    // The text appears only as TextRun text, which no Teams client parses as Markdown.
    const textBlocks: string[] = [];
    JSON.stringify(card, (_k, v) => {
      if (v && v.type === 'TextBlock') textBlocks.push(v.text);
      return v;
    });
    expect(textBlocks.join('\n')).not.toContain('urgent');
    expect(textBlocks.join('\n')).not.toContain('Bob');
    expect(json).toContain(JSON.stringify({ type: 'TextRun', text: subject, weight: 'Bolder', size: 'Medium' }).slice(1, -1));
  });

  it('summarises itself for notifications', () => {
    expect(ticketSummary({ ticket: ticket(), latest: { authorName: 'Megan Bowen', body: 'Looking into it', visibility: 'public' } })).toBe('INC-1042 · Megan Bowen: Looking into it');
    const message = cardMessage(ticketCard(data()), 'INC-1042 · VPN');
    expect(message).toMatchObject({ type: 'message', summary: 'INC-1042 · VPN', attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE }] });
  });
});

describe('escalation and status cards', () => {
  const texts = (card: unknown): string[] => {
    const found: string[] = [];
    JSON.stringify(card, (_k, v) => {
      if (v && (v.type === 'TextBlock' || v.type === 'TextRun')) found.push(v.text);
      return v;
    });
    return found;
  };

  it('show who declined an escalation and why, offer Accept and Decline while it is open, and name who accepted it', () => {
    const open = escalationCard(escalation());
    expect(texts(open)).toContain('Level 1: declined by Lee Gu (on leave)');
    expect(texts(open)[0]).toBe('Escalation: level 2 of 3, will you take it?');
    expect(open.actions?.map((a) => a.title)).toEqual(['Accept', 'Decline', 'Open ticket']);
    const accepted = escalationCard(escalation({ state: 'accepted', acceptedBy: 2 }));
    expect(texts(accepted)[0]).toBe('Escalation accepted by Megan Bowen');
    expect(accepted.actions?.map((a) => a.title)).toEqual(['Open ticket']);
  });

  it('mark each dependency ok or down, with its last error', () => {
    const card = statusCard({ ready: true, checks: { database: { status: 'ok' }, mailbox: { status: 'down', lastError: 'Graph answered 401' } } });
    expect(texts(card).join('\n')).toMatch(/Database[\s\S]*✓ ok[\s\S]*Mailbox \(Graph\)[\s\S]*✗ down[\s\S]*Graph answered 401/);
  });
});

describe('dialog cards', () => {
  const textInput = (content: unknown): Record<string, any> => (content as { body: Array<Record<string, any>> }).body.find((e) => e.type === 'Input.Text')!;

  it('give each ticket dialog one required multi-line text area, and a Submit carrying the verb and the ticket', () => {
    for (const [kind, verb] of [['reply', DIALOG_VERBS.reply], ['note', DIALOG_VERBS.note], ['resolve', DIALOG_VERBS.resolve]] as const) {
      const dialog = textDialog(kind, ticket(), { byAgent: true });
      expect(dialog).toMatchObject({ title: expect.stringContaining('INC-1042'), height: 'medium', width: 'medium', card: { contentType: ADAPTIVE_CARD_CONTENT_TYPE } });
      expect(textInput(dialog.card.content)).toMatchObject({ id: 'text', isMultiline: true, isRequired: true, maxLength: 8000 });
      expect(dialog.card.content.actions).toEqual([expect.objectContaining({ type: 'Action.Submit', data: { verb, ticket: 1042 } })]);
    }
  });

  it('say who reads what is typed, and keep the text and the problem when shown again', () => {
    const say = (card: unknown) => JSON.stringify(card);
    expect(say(textDialog('note', ticket(), { byAgent: true }))).toContain('Only agents see internal notes.');
    expect(say(textDialog('reply', ticket({ source: 'email' }), { byAgent: true }))).toContain('by email');
    const again = textDialog('reply', ticket(), { byAgent: false, text: 'my **own** words', problem: 'It was changed at the same moment.' });
    expect(textInput(again.card.content).value).toBe('my **own** words');
    expect(say(again)).toContain('It was changed at the same moment.');
  });

  it('shows the new-ticket form in a dialog with the details as a text area, only the allowed priorities, and what was typed', () => {
    const dialog = newTicketDialog({ problem: 'A ticket needs a subject.', description: 'details typed', priority: 'P1', priorities: ['P2', 'P3', 'P4'] });
    const body = dialog.card.content.body as Array<Record<string, any>>;
    expect(body.find((e) => e.id === 'description')).toMatchObject({ isMultiline: true, value: 'details typed' });
    expect(body.find((e) => e.id === 'priority')).toMatchObject({ value: 'P3', choices: [{ value: 'P2' }, { value: 'P3' }, { value: 'P4' }] });
    expect(dialog.card.content.actions).toEqual([expect.objectContaining({ type: 'Action.Submit', data: { verb: DIALOG_VERBS.newTicket } })]);
    expect(newTicketPromptCard().actions).toEqual([expect.objectContaining({ data: { msteams: { type: 'task/fetch' }, verb: DIALOG_VERBS.newTicket } })]);
  });
});

describe('the card checks themselves', () => {
  it('catch an unknown element, a missing property and a duplicate input id', () => {
    expect(schemaErrors({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'Banner', text: 'x' }] })).not.toEqual([]);
    expect(schemaErrors({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock' }] })).not.toEqual([]);
    const duplicate = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'Input.Text', id: 'a' }, { type: 'Input.Text', id: 'a' }] };
    expect(objectModelErrors(duplicate)).not.toEqual([]);
  });

  it('catch a typeahead that is not a documented Data.Query', () => {
    const picker = (query: unknown) => ({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'Input.ChoiceSet', id: 'a', choices: [], 'choices.data': query }] });
    expect(dataQueryErrors(picker({ type: 'Data.Query', dataset: 'agents' }))).toEqual([]);
    expect(dataQueryErrors(picker({ type: 'Data.Query' }))).not.toEqual([]);
    expect(dataQueryErrors(picker({ type: 'Data.Search', dataset: 'agents' }))).not.toEqual([]);
    expect(dataQueryErrors(picker({ type: 'Data.Query', dataset: 'agents', top: 5 }))).not.toEqual([]);
  });
});

describe('free-text cards', () => {
  const pending = '8f0e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4';
  it('asks about at most five tickets, plus "It’s new", with short button titles carrying only ids', () => {
    const tickets = Array.from({ length: 7 }, (_, i) => ({ id: i + 1, reference: `INC-${i + 1}`, subject: `A subject long enough to be cut short in a button title, number ${i + 1}` }));
    const actions = requestChoiceCard({ pending, text: 'help', tickets }).actions as unknown as Array<{ title: string; verb: string; data: Record<string, unknown> }>;
    expect(actions.map((a) => a.verb)).toEqual([...Array(5).fill(VERBS.requestAttach), VERBS.requestCreate]);
    expect(actions[0]!.data).toEqual({ pending, ticket: 1 });
    expect(actions.every((a) => a.title.length <= 60)).toBe(true);
  });

  it('shows what the person wrote literally, and "Edit first" opens the new-ticket dialog filled in', () => {
    const card = requestOfferCard({ pending, subject: 'VPN **drops**', description: 'VPN **drops**\nagain', files: 0 });
    expect(JSON.stringify(card.body)).not.toContain('"type":"TextBlock","text":"VPN');
    const edit = (card.actions as unknown as Array<{ title: string; data: Record<string, unknown> }>)[1]!;
    expect(edit).toMatchObject({ title: 'Edit first', data: { msteams: { type: 'task/fetch' }, verb: DIALOG_VERBS.newTicket, subject: 'VPN **drops**' } });
  });
});
