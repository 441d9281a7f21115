import type { Ticket } from '../domain/tickets.js';

/**
 * What a use case answers: done, with a notice for the person who asked; or refused, with the reason
 * (and the ticket as it stands, when there is one). `denied`: the caller may not do this, or may not
 * know the ticket exists, so a surface shows the reason and nothing of the ticket.
 */
export type Result<T> = { ok: true; value: T; notice: string } | { ok: false; reason: string; ticket?: Ticket; denied?: true };
