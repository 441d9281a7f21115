import type { Migration } from 'kysely';
import * as initial from './2026-11-22T00-00-00-initial.js';
import * as ticketWork from './2026-11-22T01-00-00-ticket-work.js';
import * as slaClocks from './2026-11-22T02-00-00-sla-clocks.js';
import * as slaEvents from './2026-11-22T03-00-00-sla-events.js';
import * as escalations from './2026-11-22T04-00-00-escalations.js';
import * as reminders from './2026-11-22T05-00-00-reminders.js';
import * as quietHoursDigests from './2026-11-22T06-00-00-quiet-hours-digests.js';
import * as outboxHolds from './2026-11-22T07-00-00-outbox-holds.js';
import * as mail from './2026-11-22T08-00-00-mail.js';
import * as crm from './2026-11-22T09-00-00-crm.js';
import * as replicas from './2026-11-22T10-00-00-replicas.js';
import * as reportIndexes from './2026-11-22T11-00-00-report-indexes.js';
import * as correlation from './2026-11-22T12-00-00-correlation.js';
import * as slaCheckOwner from './2026-11-22T13-00-00-sla-check-owner.js';
import * as mailIntakeAttempts from './2026-11-22T14-00-00-mail-intake-attempts.js';
import * as mailParticipants from './2026-11-22T15-00-00-mail-participants.js';
import * as mailSendStarted from './2026-11-22T16-00-00-mail-send-started.js';
import * as ticketSearch from './2026-11-22T17-00-00-ticket-search.js';
import * as ticketAttachments from './2026-11-22T18-00-00-ticket-attachments.js';
import * as eventDeliveries from './2026-11-22T19-00-00-event-deliveries.js';
import * as issueLinks from './2026-11-22T20-00-00-issue-links.js';
import * as attachmentStore from './2026-11-22T21-00-00-attachment-store.js';
import * as attachmentScans from './2026-11-22T22-00-00-attachment-scans.js';
import * as assistant from './2026-11-23T00-00-00-assistant.js';
import * as releasedObjects from './2026-11-23T01-00-00-released-objects.js';
import * as issueOrder from './2026-11-23T02-00-00-issue-order.js';

/**
 * Every migration, by its timestamped name. Listed here rather than read from the folder so the same
 * list works from TypeScript sources, the compiled build and the test runner alike.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-22T00-00-00-initial': initial,
  '2026-11-22T01-00-00-ticket-work': ticketWork,
  '2026-11-22T02-00-00-sla-clocks': slaClocks,
  '2026-11-22T03-00-00-sla-events': slaEvents,
  '2026-11-22T04-00-00-escalations': escalations,
  '2026-11-22T05-00-00-reminders': reminders,
  '2026-11-22T06-00-00-quiet-hours-digests': quietHoursDigests,
  '2026-11-22T07-00-00-outbox-holds': outboxHolds,
  '2026-11-22T08-00-00-mail': mail,
  '2026-11-22T09-00-00-crm': crm,
  '2026-11-22T10-00-00-replicas': replicas,
  '2026-11-22T11-00-00-report-indexes': reportIndexes,
  '2026-11-22T12-00-00-correlation': correlation,
  '2026-11-22T13-00-00-sla-check-owner': slaCheckOwner,
  '2026-11-22T14-00-00-mail-intake-attempts': mailIntakeAttempts,
  '2026-11-22T15-00-00-mail-participants': mailParticipants,
  '2026-11-22T16-00-00-mail-send-started': mailSendStarted,
  '2026-11-22T17-00-00-ticket-search': ticketSearch,
  '2026-11-22T18-00-00-ticket-attachments': ticketAttachments,
  '2026-11-22T19-00-00-event-deliveries': eventDeliveries,
  '2026-11-22T20-00-00-issue-links': issueLinks,
  '2026-11-22T21-00-00-attachment-store': attachmentStore,
  '2026-11-22T22-00-00-attachment-scans': attachmentScans,
  '2026-11-23T00-00-00-assistant': assistant,
  '2026-11-23T01-00-00-released-objects': releasedObjects,
  '2026-11-23T02-00-00-issue-order': issueOrder,
};
