/**
 * Ticket references: `INC-1042` for incidents, `REQ-1043` for requests. Numbers are shared by both
 * types, so the number alone (`#1042`, `1042`) names one ticket.
 */

export const TICKET_TYPES = ['incident', 'request'] as const;
export type TicketType = (typeof TICKET_TYPES)[number];

const PREFIX: Record<TicketType, string> = { incident: 'INC', request: 'REQ' };

export function formatReference(type: TicketType, number: number): string {
  return `${PREFIX[type]}-${number}`;
}

/** Accepts `INC-42`, `inc42`, `REQ 42`, `#42` or `42`; returns the number, or undefined. */
export function parseReference(text: string): number | undefined {
  const match = /^\s*(?:(?:inc|req)\s*-?\s*|#)?(\d{1,12})\s*$/i.exec(text);
  if (!match) return undefined;
  const number = Number(match[1]);
  return Number.isSafeInteger(number) && number > 0 ? number : undefined;
}
