import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { TicketType } from '../domain/ticket-reference.js';
import type { Priority, TicketSource, TicketStatus } from '../domain/tickets.js';

/**
 * Row shapes as the database holds them. Times are epoch milliseconds (INTEGER in SQLite, BIGINT in
 * Postgres), flags and enums are text, structured data is JSON text: the same values on both engines.
 * These types stay inside store/; repositories return domain objects or narrow records. One file for
 * every table (hence its length): the schema reads in one place, as kysely's `Database` interface needs.
 */

export interface TicketTable {
  id: number;
  reference: string;
  type: TicketType;
  subject: string;
  description: string;
  status: TicketStatus;
  priority: Priority;
  requester_id: number;
  assignee_id: number | null;
  team_id: string | null;
  source: TicketSource;
  created_at: number;
  updated_at: number;
  first_response_at: number | null;
  resolved_at: number | null;
  closed_at: number | null;
  /** Bumped on every change: lets a writer say "only if nobody changed it since I looked". */
  version: number;
  /** 1 until resolved or closed: keeps each "open tickets" list one ordered index range. */
  is_open: number;
  /** Customer tier: picks the SLA targets (with the priority) and maybe the calendar. Defaults to 'standard'. */
  tier: ColumnType<string, string | undefined, string>;
  /** Both SLA clocks' state as JSON (see domain/sla.ts ClockState); null before SLAs were tracked. */
  sla_clocks: string | null;
  first_response_due_at: number | null;
  resolution_due_at: number | null;
  /** The earlier due time of the clocks still running. */
  sla_due_at: number | null;
  /** When the SLA sweep next has to look at this ticket (a warning or a breach), or null. */
  next_sla_check_at: number | null;
  /** The replica (id) whose sweep claimed the SLA check under way, or null (see store/sla.ts). */
  sla_check_owner: ColumnType<string | null, string | null | undefined, string | null>;
  crm_status: ColumnType<'none' | 'pending' | 'ok' | 'unavailable', string | undefined, string>;
  tier_source: ColumnType<'default' | 'crm' | 'agent', string | undefined, string>;
  crm_ticket_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface TimelineTable {
  id: Generated<number>;
  ticket_id: number;
  at: number;
  kind: string;
  visibility: 'public' | 'internal';
  author_id: number | null;
  body: string;
  data: string | null;
}

export interface PersonTable {
  id: Generated<number>;
  aad_object_id: string | null;
  teams_id: string | null;
  tenant_id: string | null;
  name: string;
  email: string | null;
  role: 'admin' | 'agent' | 'requester';
  created_at: number;
  updated_at: number;
  /** IANA zone from the person's Teams client, when it told us. */
  time_zone: string | null;
  /** Quiet hours, minutes after local midnight; `from` > `until` wraps past midnight. */
  quiet_from: number | null;
  quiet_until: number | null;
}

export interface ConversationReferenceTable {
  id: Generated<number>;
  conversation_id: string;
  kind: 'personal' | 'channel' | 'groupChat';
  tenant_id: string | null;
  team_id: string | null;
  /** The Teams user id for a personal chat, so "send this person a card" finds the chat. */
  user_teams_id: string | null;
  user_aad_object_id: string | null;
  service_url: string;
  /** botbuilder's ConversationReference as JSON: everything needed to continue the conversation. */
  reference: string;
  installed_at: number;
  updated_at: number;
  removed_at: number | null;
  stale_at: number | null;
  stale_reason: string | null;
}

export interface CardPostTable {
  id: Generated<number>;
  ticket_id: number;
  conversation_ref_id: number;
  activity_id: string;
  kind: string;
  posted_at: number;
  updated_at: number;
  /** 0 once a newer copy of the same kind in the same conversation took over its updates. */
  live: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor_id: number | null;
  action: string;
  ticket_id: number | null;
  surface: 'chat' | 'card' | 'email' | 'system' | 'webhook' | 'slack';
  details: string | null;
}

export type OutboxOperation = 'send' | 'reply' | 'update';
export type OutboxStatus = 'pending' | 'sent' | 'dead';

export interface OutboxTable {
  id: Generated<number>;
  idempotency_key: string;
  operation: OutboxOperation;
  conversation_ref_id: number;
  /** For `reply`, the thread root; for `update`, the activity to replace. */
  target_activity_id: string | null;
  ticket_id: number | null;
  /** When set, a successful send records a card post of this kind for ticket_id. */
  card_kind: string | null;
  /** The activity to send, as JSON; `null` for a ticket card, which is rendered when it is sent. */
  payload: string;
  status: OutboxStatus;
  attempts: number;
  /** Not to be sent before this time (quiet hours); unlike a retry time, it does not hold up the queue. */
  hold_until: number | null;
  next_attempt_at: number;
  /** A claimed row belongs to its claimer until this time; after it, anyone may take it over. */
  lease_until: number | null;
  lease_owner: string | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
  sent_activity_id: string | null;
  /** The correlation id of the work that queued it (see log-context.ts). */
  correlation_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface BotStateTable {
  key: string;
  value: string;
  etag: string;
  updated_at: number;
}

export interface SupportTeamTable {
  team_id: string;
  name: string | null;
  registered_by: number | null;
  registered_at: number;
}

export interface TeamMemberTable {
  team_id: string;
  person_id: number;
}

/** What a mapped channel receives: new tickets from chats, SLA breaches, new P1 tickets, escalations nobody took. */
export type ChannelRole = 'triage' | 'sla-breaches' | 'critical' | 'escalations';

export interface ChannelRoleTable {
  role: ChannelRole;
  conversation_ref_id: number;
  team_id: string | null;
  set_by: number | null;
  set_at: number;
}

export interface SlaEventTable {
  id: Generated<number>;
  ticket_id: number;
  clock: 'first_response' | 'resolution';
  kind: 'warning' | 'breach';
  threshold: string;
  cycle: number;
  at: number;
  outcome: 'sent' | 'silent' | 'snoozed';
}

export interface SlaSnoozeTable {
  ticket_id: number;
  clock: 'first_response' | 'resolution';
  until: number;
  by_person_id: number | null;
  at: number;
}

export interface EscalationTable {
  id: Generated<number>;
  ticket_id: number;
  state: 'open' | 'accepted' | 'exhausted';
  /** 0-based index of the level asked now (or last asked). */
  level: number;
  levels: number;
  trigger: 'breach' | 'manual';
  reason: string | null;
  started_by: number | null;
  started_at: number;
  /** When the current level's time is up; null once accepted or exhausted. */
  timeout_at: number | null;
  accepted_by: number | null;
  accepted_at: number | null;
  /** JSON: what each level did (declined by whom and why, or timed out). */
  history: ColumnType<string, string | undefined, string>;
}

export interface ReminderTable {
  id: Generated<number>;
  ticket_id: number;
  person_id: number;
  due_at: number;
  state: 'pending' | 'sent' | 'completed';
  round: ColumnType<number, number | undefined, number>;
  created_at: number;
  completed_at: number | null;
}

export interface DigestTable {
  /** `person:<id>` or `conversation:<id>`. */
  recipient: string;
  /** The recipient's local date, YYYY-MM-DD. */
  day: string;
  sent_at: number;
}

export interface CounterTable {
  name: string;
  value: number;
}

export interface MailMessageTable {
  id: Generated<number>;
  internet_message_id: string;
  direction: 'in' | 'out';
  mailbox_id: string | null;
  ticket_id: number | null;
  conversation_id: string | null;
  from_address: string | null;
  subject: string;
  received_at: number;
  /** What became of it: a new ticket, a reply on one, filtered (own, automatic, list), a bounce, unreadable, or sent by us. */
  disposition: 'ticket' | 'reply' | 'filtered' | 'bounce' | 'poison' | 'sent';
  /** The threading rule that matched, or why it was filtered. */
  reason: string | null;
  /** JSON [{name, value}] as received. */
  headers: string | null;
  body_type: 'html' | 'text' | null;
  /** The full original body. */
  body: string | null;
  /** Set when the sender claimed to be an agent or a colleague and the receiving server could not confirm it. */
  sender_check: string | null;
  created_at: number;
}

/**
 * `mail_intake_attempts` (migration 2026-11-22T14-00-00): a received email written down before intake
 * reads it, so one that crashed or hung the service is known at the next start (store/mail-quarantine.ts).
 */
export interface MailIntakeAttemptTable {
  id: Generated<number>;
  /** The support mailbox (lower case): several may share a database. */
  mailbox: string;
  /** Graph's immutable id of the message. */
  mailbox_id: string;
  internet_message_id: string | null;
  subject: string;
  from_address: string | null;
  received_at: number | null;
  state: 'in-progress' | 'failed' | 'quarantined' | 'retry' | 'dropped';
  /** Attempts begun (a retry an admin asks for leaves one more). */
  attempts: number;
  started_at: number;
  /** The replica that began the latest attempt. */
  owner: string | null;
  /** The last failure, or why it was quarantined or dropped. */
  reason: string | null;
  quarantined_at: number | null;
  updated_at: number;
}

/** Who is on a ticket's mail thread, and whether our mail to them bounced. */
export interface MailParticipantTable {
  ticket_id: number;
  /** Lower-cased. */
  address: string;
  name: string | null;
  added_at: number;
  bounced_at: number | null;
  /** "could not deliver: the mailbox does not exist (5.1.1)". */
  bounce_reason: string | null;
}

/** Where a kept file's malware scan stands (CLAMD_HOST). */
export type ScanState = 'not_scanned' | 'pending' | 'clean' | 'infected' | 'failed';

export interface MailAttachmentTable {
  id: Generated<number>;
  mail_message_id: number;
  ticket_id: number | null;
  source_id: string | null;
  name: string;
  content_type: string;
  size: number;
  inline: number;
  content_id: string | null;
  storage: 'database' | 'file' | 'link';
  content: Uint8Array | null;
  /** File path (storage 'file') or the mailbox URL to fetch it from (storage 'link'). */
  location: string | null;
  /** Where the contents are (ATTACHMENT_STORE) and their SHA-256 key there; null for rows from before the stores and for links. */
  store: 'database' | 'folder' | 'azure' | 's3' | null;
  content_key: string | null;
  /** The type the sender declared, and the one the bytes show (content_type is the one served). */
  declared_type: string | null;
  sniffed_type: string | null;
  purged_at: number | null;
  created_at: number;
  /** Malware scanning (CLAMD_HOST): see src/store/attachment-scans.ts. */
  scan_state: ColumnType<ScanState, ScanState | undefined, ScanState>;
  scan_verdict: string | null;
  scanned_at: number | null;
  scan_attempts: ColumnType<number, number | undefined, number>;
  scan_next_at: number | null;
  scan_lease_until: number | null;
  scan_lease_owner: string | null;
}

/** Files handed to the bot in Teams, on their ticket (email attachments are in mail_attachments). */
export interface TicketAttachmentTable {
  id: Generated<number>;
  ticket_id: number;
  origin: 'teams-file' | 'teams-image' | 'teams-link';
  source_id: string | null;
  name: string;
  content_type: string;
  size: number;
  visibility: 'public' | 'internal';
  author_id: number | null;
  storage: 'database' | 'file' | 'link';
  content: Uint8Array | null;
  /** File path (storage 'file') or the SharePoint/OneDrive address (storage 'link'). */
  location: string | null;
  /** Where the contents are (ATTACHMENT_STORE) and their SHA-256 key there; null for rows from before the stores and for links. */
  store: 'database' | 'folder' | 'azure' | 's3' | null;
  content_key: string | null;
  /** The type the sender declared, and the one the bytes show (content_type is the one served). */
  declared_type: string | null;
  sniffed_type: string | null;
  purged_at: number | null;
  created_at: number;
  /** Malware scanning (CLAMD_HOST): see src/store/attachment-scans.ts. */
  scan_state: ColumnType<ScanState, ScanState | undefined, ScanState>;
  scan_verdict: string | null;
  scanned_at: number | null;
  scan_attempts: ColumnType<number, number | undefined, number>;
  scan_next_at: number | null;
  scan_lease_until: number | null;
  scan_lease_owner: string | null;
}

export interface MailStateTable {
  key: string;
  value: string;
  updated_at: number;
  lease_until: number | null;
  lease_owner: string | null;
}

export interface MailOutboxTable {
  id: Generated<number>;
  idempotency_key: string;
  ticket_id: number;
  kind: 'reply' | 'acknowledgement';
  /** 1 for mail nobody typed (acknowledgements): marked Auto-Submitted so robots don't answer it. */
  automatic: number;
  /** The received message this answers (mail_messages.id). */
  in_reply_to: number | null;
  to_address: string;
  to_name: string | null;
  /** JSON [{address, name}]: the ticket's other mail participants. */
  cc: string | null;
  subject: string;
  body: string;
  /** The secret part of the hidden thread token. */
  token: string;
  author_id: number | null;
  status: 'pending' | 'sent' | 'dead';
  attempts: Generated<number>;
  next_attempt_at: number;
  lease_until: number | null;
  lease_owner: string | null;
  last_error: string | null;
  /** The draft made by createReply, so a retry after a crash sends it rather than making another. */
  draft_id: string | null;
  internet_message_id: string | null;
  created_at: number;
  sent_at: number | null;
  /** The correlation id of the work that queued it (see log-context.ts). */
  correlation_id: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * When a send of it last began (epoch ms): set just before sendMail or a draft's send, so an attempt
   * after a crash or a lost answer looks in Sent Items before sending again. Null: never begun.
   */
  send_started_at: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface CrmContactTable {
  email: string;
  /** 0: HubSpot has no contact with this address (cached too, so we don't keep asking). */
  found: number;
  contact_id: string | null;
  contact_name: string | null;
  company_id: string | null;
  company_name: string | null;
  domain: string | null;
  /** The company's tier property as HubSpot has it, and our tier for it. */
  tier_value: string | null;
  tier: string | null;
  owner_id: string | null;
  lifecycle_stage: string | null;
  open_deals: number | null;
  previous_tickets: number | null;
  fetched_at: number;
  expires_at: number;
}

export interface EnrichmentJobTable {
  email: string;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: number;
  lease_until: number | null;
  lease_owner: string | null;
  last_error: string | null;
  created_at: number;
}

export interface CrmStateTable {
  key: string;
  value: string;
}

export interface WebhookReceiptTable {
  signature: string;
  received_at: number;
}

export interface ReplicaTable {
  id: string;
  started_at: number;
  heartbeat_at: number;
}

/**
 * `ticket_search` (migration 2026-11-22T17-00-00): the compose box's full-text index, written only by
 * triggers on `tickets` and `people`; read by store/ticket-search.ts. SQLite: an FTS5 table whose rowid
 * is the ticket id; Postgres: a table with a generated tsvector column `document` (GIN-indexed).
 */
export interface TicketSearchTable {
  ticket_id: number;
  reference: string;
  subject: string;
  /** The requester's name and email, as one text. */
  requester: string;
  /** SQLite only: `r<requester id>`, so a requester's search stays inside the index. */
  requester_key?: string;
}

/** A desk event on its way to one target outside Teams (webhook, PagerDuty, Slack). */
export interface EventDeliveryTable {
  id: Generated<number>;
  /** `event:<event id>:to:<target>`: an event reaches a target once, however many rules send it there. */
  idempotency_key: string;
  target: string;
  event_id: string;
  event_type: string;
  ticket_id: number | null;
  /** 1: a rule sent it; 0: it follows up what the target posted about the ticket. */
  matched: number;
  /** The DeskEvent as JSON (the webhook body). */
  payload: string;
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  next_attempt_at: number;
  /** When it was first tried: retries stop a target's retry period after this. */
  first_attempt_at: number | null;
  lease_until: number | null;
  lease_owner: string | null;
  last_error: string | null;
  /** What the peer answered, in words. */
  result: string | null;
  created_at: number;
  sent_at: number | null;
  correlation_id: string | null;
}

/** What a target posted about a ticket (a Slack message, a PagerDuty alert), followed up by later events. */
export interface IntegrationPostTable {
  target: string;
  ticket_id: number;
  external_id: string;
  created_at: number;
}

/** An engineering issue (Linear, Jira) linked to tickets, as the desk last saw it. */
export interface TrackedIssueTable {
  tracker: string;
  issue_key: string;
  title: string;
  url: string;
  /** The tracker's own name for the state ("In Review", "Done"). */
  state: string;
  /** todo | started | done | canceled: what the status map keys on when no state name matches. */
  state_category: string;
  updated_at: number;
  last_polled_at: number | null;
  /** When the tracker last changed the issue (its updatedAt), epoch ms: older views of it are not applied. */
  changed_at: number | null;
}

export interface IssueLinkTable {
  ticket_id: number;
  tracker: string;
  issue_key: string;
  linked_by: number | null;
  linked_at: number;
}

/** A comment carried between a tracker and a ticket: `to-ticket` or `to-tracker`. */
export interface SyncedCommentTable {
  tracker: string;
  comment_id: string;
  ticket_id: number;
  direction: string;
  created_at: number;
}

/** A tracker webhook delivery seen (its replay is refused). */
export interface TrackerDeliveryTable {
  tracker: string;
  delivery_id: string;
  received_at: number;
}

/** One call to the AI assistant: who, on what, how much, how it went; never the text (see store/assistant.ts). */
export interface AssistantCallTable {
  id: Generated<number>;
  at: number;
  person_id: number | null;
  ticket_id: number | null;
  feature: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  outcome: string;
  ms: number;
}

/** Tokens the assistant spent on one UTC day (`2026-11-23`), shared by every replica. */
export interface AssistantBudgetTable {
  day: string;
  tokens: number;
}

/** A new ticket's triage suggestion (JSON payload), until an agent accepts or dismisses it. */
export interface AssistantSuggestionTable {
  ticket_id: number;
  kind: string;
  payload: string;
  state: 'pending' | 'accepted' | 'dismissed';
  created_at: number;
  decided_by: number | null;
  decided_at: number | null;
}

export interface Tables {
  tickets: TicketTable;
  timeline_entries: TimelineTable;
  people: PersonTable;
  conversation_references: ConversationReferenceTable;
  card_posts: CardPostTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
  bot_state: BotStateTable;
  counters: CounterTable;
  support_teams: SupportTeamTable;
  team_members: TeamMemberTable;
  channel_roles: ChannelRoleTable;
  sla_events: SlaEventTable;
  sla_snoozes: SlaSnoozeTable;
  escalations: EscalationTable;
  reminders: ReminderTable;
  digests: DigestTable;
  mail_messages: MailMessageTable;
  mail_participants: MailParticipantTable;
  mail_intake_attempts: MailIntakeAttemptTable;
  mail_attachments: MailAttachmentTable;
  mail_state: MailStateTable;
  mail_outbox: MailOutboxTable;
  crm_contacts: CrmContactTable;
  enrichment_jobs: EnrichmentJobTable;
  webhook_receipts: WebhookReceiptTable;
  crm_state: CrmStateTable;
  replicas: ReplicaTable;
  ticket_attachments: TicketAttachmentTable;
  attachment_blobs: AttachmentBlobTable;
  released_objects: ReleasedObjectTable;
  ticket_search: TicketSearchTable;
  event_deliveries: EventDeliveryTable;
  integration_posts: IntegrationPostTable;
  tracked_issues: TrackedIssueTable;
  issue_links: IssueLinkTable;
  synced_comments: SyncedCommentTable;
  tracker_deliveries: TrackerDeliveryTable;
  assistant_calls: AssistantCallTable;
  assistant_budget: AssistantBudgetTable;
  assistant_suggestions: AssistantSuggestionTable;
}

export type TicketRow = Selectable<TicketTable>;
export type NewTicketRow = Insertable<TicketTable>;
export type TicketUpdate = Updateable<TicketTable>;
export type ConversationReferenceRow = Selectable<ConversationReferenceTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type EventDeliveryRow = Selectable<EventDeliveryTable>;
export type PersonRow = Selectable<PersonTable>;

/** The database store's objects, in chunks of at most 1 MiB (src/integrations/storage/database.ts). */
/** An attachment-store object no row named when released; deleted by the sweep after a grace period. */
export interface ReleasedObjectTable {
  store: 'database' | 'folder' | 'azure' | 's3';
  key: string;
  released_at: number;
}

export interface AttachmentBlobTable {
  key: string;
  seq: number;
  content: Uint8Array;
  created_at: number;
}
