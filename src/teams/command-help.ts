import type { CommandHelp } from '../cards/help-card.js';
import { isAgent } from '../domain/roles.js';
import type { Actor } from '../services/actors.js';
import type { Where } from './turn.js';

/** What `help` lists: the commands each role may type, and what a reply in a ticket's thread does. */

const COMMANDS_FOR_EVERYONE: CommandHelp[] = [
  { usage: 'new', description: 'Open a ticket with a short form.' },
  { usage: 'new <what is wrong>', description: 'Open a ticket right away.' },
  { usage: 'my tickets', description: 'Tickets you opened, newest activity first.' },
  { usage: 'show <ref>', description: 'A ticket, e.g. show INC-1042 (or #1042, or 1042).' },
  { usage: 'history <ref>', description: 'What has happened on a ticket.' },
  { usage: 'reply <ref> <text>', description: 'Add a comment to your ticket.' },
  { usage: 'reopen <ref> [why]', description: 'Reopen your resolved ticket.' },
  { usage: 'files <ref> · file <ref> <n>', description: 'The files on your ticket, as links for you alone (in this personal chat); attach a file to new or reply to keep it on the ticket.' },
  { usage: 'help', description: 'Show this list.' },
];

const FREE_TEXT_FOR_REQUESTERS: CommandHelp[] = [
  { usage: '<what is wrong, in your words>', description: 'I offer to open a ticket with it, or ask which of your open tickets it is about; what you add in the next minutes joins that ticket.' },
  { usage: 'status · any news?', description: 'Where your ticket stands (“what about my VPN ticket” picks one).' },
];

const COMMANDS_FOR_AGENTS: CommandHelp[] = [
  { usage: 'new [<what is wrong>]', description: 'Open a ticket (form, or at once with a subject).' },
  { usage: 'list · open · unassigned · team · breaching', description: 'Your open tickets, all open, nobody on them, your team’s, about to breach.' },
  { usage: 'show <ref> · history <ref>', description: 'A ticket card, or its full history with internal notes.' },
  { usage: 'take <ref>', description: 'Assign a ticket to yourself.' },
  { usage: 'assign <ref> to @person', description: 'Assign to another agent (mention them or type their name).' },
  { usage: 'unassign <ref>', description: 'Put a ticket back in the queue.' },
  { usage: 'priority <ref> P1..P4', description: 'Change the priority.' },
  { usage: 'pending <ref> · hold <ref>', description: 'Waiting for the customer; on hold.' },
  { usage: 'resolve <ref> [note] · close <ref>', description: 'Resolve (with an optional public note), close.' },
  { usage: 'reopen <ref> [note]', description: 'Reopen a resolved or closed ticket.' },
  { usage: 'note <ref> <text>', description: 'Internal note: agents only.' },
  { usage: 'escalate <ref> [why]', description: 'Ask the escalation chain to take it, level by level.' },
  { usage: 'remind me <ref> <when>', description: 'in 2h · at 16:00 · tomorrow 9:00 · friday · in 1 business day.' },
  { usage: 'quiet 19:00-08:00 · quiet off', description: 'Hold SLA warnings (not P1) during your quiet hours.' },
  { usage: 'reply <ref> <text>', description: 'Public reply to the requester (by email for email tickets; counts as first response).' },
  { usage: 'tier <ref> <tier> [why]', description: 'Set the customer tier (and so the SLA) by hand, e.g. tier INC-1042 vip.' },
  { usage: 'files <ref> · file <ref> <n>', description: 'A ticket’s files as links for you alone, or one sent to you (personal chat); files sent with new, reply or note are kept.' },
  { usage: 'link <ref> <issue> · unlink <ref> <issue>', description: 'Link a Linear or Jira issue (ENG-123, or paste its URL) to a ticket; its state shows on the card and comes back to the ticket.' },
  { usage: 'issues <ref>', description: 'The issues a ticket links, with their state.' },
  { usage: 'whois <email>', description: 'Who someone is in HubSpot: company, tier, owner, open deals.' },
  { usage: 'report · report mine', description: 'SLA met by priority and tier (7 and 30 days) and the open-ticket trend, for the team or you.' },
  { usage: 'help', description: 'Show this list.' },
];

const COMMANDS_FOR_ADMINS: CommandHelp[] = [
  { usage: 'setup triage', description: 'In a channel: post tickets opened in personal chats here.' },
  { usage: 'setup sla-breaches · critical · escalations', description: 'In a channel: post SLA breaches, new P1 tickets, or unaccepted escalations here.' },
  { usage: 'setup support team', description: 'In a team: make its members agents.' },
  { usage: 'status', description: 'Health of the database, bot credentials, mailbox, HubSpot and each integration.' },
  { usage: 'integrations', description: 'The notification rules and integrations (webhooks, PagerDuty, Slack); “integrations test <name>” sends a test event.' },
];

export function commandsFor(actor: Actor, where: Pick<Where, 'kind' | 'threadTicketId'>): CommandHelp[] {
  const base = isAgent(actor.role) ? COMMANDS_FOR_AGENTS : COMMANDS_FOR_EVERYONE;
  const extra = actor.role === 'admin' ? COMMANDS_FOR_ADMINS : [];
  // In their personal chat a requester's own words are a request (handlers/free-text.ts).
  const words = actor.role === 'requester' && where.kind === 'personal' ? FREE_TEXT_FOR_REQUESTERS : [];
  const thread = where.threadTicketId !== undefined ? [{ usage: '(reply in this thread)', description: 'Becomes an internal note on the ticket; start with reply to make it public.' }] : [];
  return [...words, ...base, ...extra, ...thread];
}
