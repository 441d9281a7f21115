import { isAgent } from '../domain/roles.js';
import { STATUS_LABELS, subjectFrom, type Ticket } from '../domain/tickets.js';
import { SLACK_ACTIONS, type SlackButton } from '../integrations/slack/actions.js';
import { escape } from '../integrations/slack/blocks.js';
import { SLASH_USAGE, type SlashCommand } from '../integrations/slack/slash-command.js';
import type { Db } from '../store/database.js';
import { findEscalation } from '../store/escalations.js';
import { findAgentsByName, findPeople, findPersonByEmail, type Person } from '../store/people.js';
import { channelFor } from '../store/support-teams.js';
import type { Surface } from '../store/timeline.js';
import type { Actor } from './actors.js';
import type { EscalationService } from './escalations.js';
import type { Result } from './result.js';
import type { SlaService } from './sla.js';
import type { TicketQueries } from './ticket-queries.js';
import type { TicketService } from './tickets.js';

/**
 * What Slack users ask of the desk (a button pressed, a `/ticket` command), run through the desk's
 * own services, which check the actor's rights exactly as for Teams. Answers are one line of mrkdwn
 * for the person who asked, never shown to the channel.
 */

export interface SlackInteractionsDeps {
  db: Db;
  tickets: TicketService;
  sla: SlaService;
  escalations: EscalationService;
  queries: TicketQueries;
  /** The role of a stored person (for "assign to": only agents may be given tickets). */
  actorOf: (person: Person) => Promise<Actor>;
  /** A Slack user mentioned in a command (`<@U123>`) → their desk person, when there is one. */
  personOfSlackUser?: (slackUserId: string) => Promise<Person | undefined>;
}

/** What Slack users do is audited as done from Slack, buttons and commands alike. */
const BUTTON_SURFACE: Surface = 'slack';
const COMMAND_SURFACE: Surface = 'slack';

export class SlackInteractions {
  constructor(private readonly deps: SlackInteractionsDeps) {}

  /** A button on one of the desk's Slack messages; the button was read with its schema, its ids are checked here. */
  async press(actor: Actor, button: SlackButton): Promise<string> {
    const ctx = { actor, surface: BUTTON_SURFACE };
    switch (button.action) {
      case SLACK_ACTIONS.take:
        return answer(await this.deps.tickets.take(ctx, button.ticketId));
      case SLACK_ACTIONS.snooze:
        return answer(await this.deps.sla.snooze(actor, button.ticketId, button.clock, button.minutes, BUTTON_SURFACE));
      case SLACK_ACTIONS.accept:
      case SLACK_ACTIONS.decline: {
        // A value naming one ticket and another ticket's escalation was not made by the desk.
        const escalation = await findEscalation(this.deps.db, button.escalationId);
        if (escalation && escalation.ticketId !== button.ticketId) return 'That button does not belong to this ticket; nothing was changed.';
        return answer(
          button.action === SLACK_ACTIONS.accept
            ? await this.deps.escalations.accept(actor, button.escalationId, BUTTON_SURFACE)
            : await this.deps.escalations.decline(actor, button.escalationId, 'declined in Slack', BUTTON_SURFACE),
        );
      }
      case SLACK_ACTIONS.open:
        return '';
    }
  }

  async command(actor: Actor, command: SlashCommand): Promise<string> {
    const ctx = { actor, surface: COMMAND_SURFACE };
    switch (command.kind) {
      case 'help':
        return SLASH_USAGE;
      case 'create': {
        const subject = subjectFrom(command.text);
        // Like a ticket opened in a personal chat: its card goes to the Teams triage channel, when one is mapped.
        const triage = await channelFor(this.deps.db, 'triage');
        const created = await this.deps.tickets.create(ctx, {
          type: 'incident',
          subject,
          description: command.text.length > subject.length ? command.text : '',
          priority: 'P3',
          teamId: null,
          source: 'api',
          postTo: triage ? [triage.conversationRefId] : [],
        });
        return created.ok ? `${escape(created.notice)}.` : `Nothing was created: ${escape(created.reason)}.`;
      }
      case 'show':
        return this.show(actor, command.ref);
      case 'take':
        return answer(await this.deps.tickets.take(ctx, command.ref));
      case 'assign': {
        const found = await this.assignee(command.assignee);
        if (!found.ok) return found.reason;
        return answer(await this.deps.tickets.assign(ctx, command.ref, found.person));
      }
      case 'status':
        return answer(await this.deps.tickets.changeStatus(ctx, command.ref, command.to, command.note));
    }
  }

  private async show(actor: Actor, id: number): Promise<string> {
    const found = await this.deps.queries.get(actor, id);
    if (!found.ok) return `${capitalize(escape(found.reason))}.`;
    const ticket: Ticket = found.value;
    const people = await findPeople(this.deps.db, [ticket.requesterId, ...(ticket.assigneeId !== null ? [ticket.assigneeId] : [])]);
    const name = (id: number | null) => (id === null ? 'Unassigned' : (people.get(id)?.name ?? 'someone'));
    return [
      `*${ticket.reference}* · ${escape(ticket.subject)}`,
      `Status: ${STATUS_LABELS[ticket.status]} · Priority: ${ticket.priority} · Tier: ${escape(ticket.tier)}`,
      `Assignee: ${escape(name(ticket.assigneeId))} · Requester: ${escape(name(ticket.requesterId))}`,
    ].join('\n');
  }

  /** "megan@contoso.com", "Megan", or a Slack mention `<@U123|megan>`: one agent, or why not. */
  private async assignee(text: string): Promise<{ ok: true; person: Person } | { ok: false; reason: string }> {
    const wanted = text.replace(/^@/, '').trim();
    const mention = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(wanted);
    const email = /^(?:<mailto:)?([^\s@<>|]+@[^\s@<>|]+\.[^\s@<>|]+?)(?:\|[^>]*)?>?$/i.exec(wanted)?.[1];
    let candidates: Person[];
    if (mention) {
      const person = await this.deps.personOfSlackUser?.(mention[1]!);
      candidates = person ? [person] : [];
      if (!person) return { ok: false, reason: 'That Slack user has no service desk account (or no verified email), so tickets cannot be assigned to them.' };
    } else if (email) {
      const person = await findPersonByEmail(this.deps.db, email);
      if (!person) return { ok: false, reason: `No service desk account uses ${escape(email)}.` };
      candidates = [person];
    } else {
      candidates = await findAgentsByName(this.deps.db, wanted);
    }
    if (candidates.length > 1) return { ok: false, reason: `Several agents match “${escape(wanted)}”: ${candidates.slice(0, 5).map((p) => escape(p.name)).join(', ')}. Use their email address.` };
    const person = candidates[0];
    if (!person) return { ok: false, reason: `No agent matches “${escape(wanted)}”. Use their email address, or ask an admin to add them as an agent.` };
    if (!isAgent((await this.deps.actorOf(person)).role)) return { ok: false, reason: `${escape(person.name)} is not a support agent, so tickets can't be assigned to them.` };
    return { ok: true, person };
  }
}

/** A service's answer in one line: its notice, or the reason it refused. */
function answer<T>(result: Result<T>): string {
  return result.ok ? `${escape(result.notice)}.` : `${capitalize(escape(result.reason))}.`;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
