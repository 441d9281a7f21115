import { describe, expect, it } from 'vitest';
import { readRequest, smallTalk, ticketFromText, type OpenTicketSummary } from '../../src/domain/free-text.js';
import { SUBJECT_MAX } from '../../src/domain/tickets.js';

// Most recent first, as the bot reads them.
const mail: OpenTicketSummary = { id: 3, reference: 'INC-3', subject: 'Outlook asks for my password', updatedAt: 3_000 };
const badge: OpenTicketSummary = { id: 2, reference: 'INC-2', subject: 'Badge does not open the door', updatedAt: 2_000 };
const vpn: OpenTicketSummary = { id: 1, reference: 'INC-1', subject: 'VPN drops every 10 minutes', updatedAt: 1_000 };
const several = [mail, badge, vpn];

describe('reading a requester’s free text', () => {
  it('is a new request when they have no open tickets', () => {
    expect(readRequest('my printer is jammed', [])).toMatchObject({ intent: 'new', ranked: [] });
  });

  it('asks which ticket when they have open ones, likeliest first by shared words, then most recent', () => {
    expect(readRequest('the VPN dropped again on hotel wifi', several)).toMatchObject({ intent: 'unsure', ticketId: 1, ranked: [1, 3, 2] });
    expect(readRequest('the coffee machine is broken', several)).toMatchObject({ intent: 'unsure', ticketId: 3, ranked: [3, 2, 1] });
    expect(readRequest('the coffee machine is broken', [vpn])).toMatchObject({ intent: 'unsure', ticketId: 1 });
  });

  it('joins the ticket being discussed, or the open ticket its reference names', () => {
    expect(readRequest('it also happens at home', several, { focusTicketId: 2 })).toMatchObject({ intent: 'add-info', ticketId: 2 });
    expect(readRequest('more on INC-1: it drops at :10 and :20', several)).toMatchObject({ intent: 'add-info', ticketId: 1 });
    // A reference to a ticket that is not one of theirs (or not open) is not taken.
    expect(readRequest('same as INC-99', several).intent).toBe('unsure');
  });

  it('reads "status" questions: the ticket their words name, else the one discussed, else the only one; several unnamed for a list', () => {
    for (const text of ['status', 'Status?', 'any news?', 'Any updates?', 'update?', 'where is my ticket', 'what about my request?']) {
      expect(readRequest(text, [vpn]), text).toMatchObject({ intent: 'status', ticketId: 1 });
      expect(readRequest(text, several), text).toMatchObject({ intent: 'status' });
      expect(readRequest(text, several).ticketId, text).toBeUndefined();
      expect(readRequest(text, several, { focusTicketId: 2 }).ticketId, text).toBe(2);
    }
    expect(readRequest('what about my VPN ticket', several)).toMatchObject({ intent: 'status', ticketId: 1 });
    expect(readRequest('where is my badge?', several)).toMatchObject({ intent: 'status', ticketId: 2 });
    expect(readRequest('any news?', [])).toMatchObject({ intent: 'status' });
    // "where is my …" about something that is no ticket of theirs is a request, not a status question.
    expect(readRequest('where is my parking permit form', [])).toMatchObject({ intent: 'new' });
  });

  it('answers greetings and thanks, and nothing that carries a request', () => {
    for (const text of ['hi', 'Hello!', 'good morning', 'thanks!', 'Thank you so much', 'ok thanks', 'bye']) expect(smallTalk(text), text).toBeDefined();
    for (const text of ['hi, my laptop is broken', 'thanks but it still fails', 'status']) expect(smallTalk(text), text).toBeUndefined();
  });

  it('fills in the subject from the first line or sentence, within the subject limit, and keeps the whole text as description', () => {
    expect(ticketFromText('VPN drops')).toEqual({ subject: 'VPN drops', description: '' });
    expect(ticketFromText('VPN drops\nsince Monday, on wifi only')).toEqual({ subject: 'VPN drops', description: 'VPN drops\nsince Monday, on wifi only' });
    const long = 'My laptop will not start since the update this morning. The screen stays black and the fan spins loudly for a while.';
    expect(ticketFromText(long).subject).toBe('My laptop will not start since the update this morning.');
    const huge = 'x'.repeat(SUBJECT_MAX * 2);
    expect(ticketFromText(huge).subject).toHaveLength(SUBJECT_MAX);
    expect(ticketFromText(huge).description).toBe(huge);
  });
});
