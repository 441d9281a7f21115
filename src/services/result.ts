import type { Ticket } from '../domain/tickets.js';

/** What a use case answers: done, with a notice for the person who asked; or refused, with the reason (and the ticket as it stands, when there is one). */
export type Result<T> = { ok: true; value: T; notice: string } | { ok: false; reason: string; ticket?: Ticket };
