import { z } from 'zod';
import { clockMs, parseDuration } from './domain/duration.js';
import { PRIORITIES, type Priority } from './domain/tickets.js';
import { isOriginPattern } from './domain/origin-pattern.js';
import { parseClamdHost } from './domain/clamd-host.js';

/**
 * Every environment variable the service reads, parsed once at start-up into a frozen object.
 * Nothing else in src/ reads process.env: adapters get the slice of this object they need, and tests
 * build their own Config with `parseConfig({...})`. It is one long file on purpose: the schema, the
 * documentation rows the README's table is checked against, and the cross-variable checks stay side
 * by side, so a new setting is added in one place and cannot drift from its documentation.
 */

/** The Bot Framework keys `ConfigurationBotFrameworkAuthentication` reads, passed through verbatim. */
export const BOT_FRAMEWORK_ENDPOINT_KEYS = [
  'ToBotFromChannelOpenIdMetadataUrl',
  'ToBotFromChannelTokenIssuer',
  'ToChannelFromBotLoginUrl',
  'ToChannelFromBotOAuthScope',
  'ToBotFromEmulatorOpenIdMetadataUrl',
  'OAuthUrl',
  'CallerId',
  'ChannelService',
  'ValidateAuthority',
  'BotOpenIdMetadata',
  'OAuthApiEndpoint',
] as const;
export type BotFrameworkEndpointKey = (typeof BOT_FRAMEWORK_ENDPOINT_KEYS)[number];

/**
 * Setting any one of these switches botbuilder into "parameterized" mode, where keys left unset stay
 * undefined instead of falling back to the public cloud
 * (https://github.com/microsoft/botbuilder-js/blob/main/libraries/botbuilder-core/src/configurationBotFrameworkAuthentication.ts), so we insist on the
 * four that inbound validation and outbound tokens cannot work without.
 */
const PARAMETERIZED_KEYS: BotFrameworkEndpointKey[] = [
  'ToChannelFromBotLoginUrl',
  'ToChannelFromBotOAuthScope',
  'ToBotFromChannelTokenIssuer',
  'ToBotFromChannelOpenIdMetadataUrl',
  'ToBotFromEmulatorOpenIdMetadataUrl',
  'OAuthUrl',
  'CallerId',
];
const REQUIRED_WHEN_PARAMETERIZED: BotFrameworkEndpointKey[] = [
  'ToChannelFromBotLoginUrl',
  'ToChannelFromBotOAuthScope',
  'ToBotFromChannelTokenIssuer',
  'ToBotFromChannelOpenIdMetadataUrl',
];

export type DatabaseConfig = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
export type BotType = 'MultiTenant' | 'SingleTenant' | 'UserAssignedMsi';

export interface BotConfig {
  /** Undefined in local mode: inbound requests are not authenticated and replies carry no token. */
  appId: string | undefined;
  password: string | undefined;
  tenantId: string | undefined;
  type: BotType;
  /** Only the keys the operator set; see BOT_FRAMEWORK_ENDPOINT_KEYS. */
  endpoints: Partial<Record<BotFrameworkEndpointKey, string>>;
  /** Who may talk to the bot, checked before an activity is processed (src/teams/inbound-policy.ts). */
  inbound: InboundPolicy;
}

export interface InboundPolicy {
  /** Origin patterns (`https://smba.trafficmanager.net`, `http://127.0.0.1:*`) an activity's serviceUrl must match. */
  allowedServiceUrls: readonly string[];
  /** Accept Bot Framework Emulator tokens besides channel tokens (never by default). */
  allowEmulatorTokens: boolean;
  /** Only this channel's activities are processed; undefined in local mode (Emulator, Playground). */
  channelId: 'msteams' | undefined;
  /** Tenants whose activities are processed; `'*'` for every tenant. */
  allowedTenantIds: readonly string[] | '*';
}

export interface GraphConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  mailbox: string;
  baseUrl: string;
  authorityHost: string;
  notificationUrl: string | undefined;
  /** How often to poll the mailbox by delta query (also the safety net when notifications are on). */
  pollIntervalMs: number;
  /** Lifetime asked for each change-notification subscription. */
  subscriptionMinutes: number;
}

export interface MailConfig {
  /** A customer's reply reopens a ticket resolved at most this long ago; later replies open a linked ticket. */
  reopenWindowMs: number;
  acknowledge: boolean;
  /** Path of the acknowledgement template; undefined → the built-in one. */
  ackTemplatePath: string | undefined;
  /** Most automatic acknowledgements one sender gets per hour. */
  ackMaxPerHour: number;
  ackMaxPerHourTotal: number;
  messageTimeoutMs: number;
  /** Attachments up to this size are stored; larger ones are kept as a link to the message in the mailbox. */
  attachmentMaxBytes: number;
  /** Folder for attachment contents; undefined → in the database. */
  attachmentDir: string | undefined;
}

export interface HubSpotConfig {
  accessToken: string;
  baseUrl: string;
  clientSecret: string | undefined;
  /** The company property that holds the support tier. */
  tierProperty: string;
  /** Our own limits, kept under the account's: requests per rolling 10 s and per day. */
  limitPer10s: number;
  dailyLimit: number;
  cacheTtlMs: number;
  /** Mirror each ticket as a HubSpot ticket. */
  ticketSync: boolean;
  /** The webhook URL as HubSpot calls it (signature v3 covers it); unset → from the request's Host. */
  webhookUrl: string | undefined;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  http: { host: string; port: number; maxBodyBytes: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  database: DatabaseConfig;
  bot: BotConfig;
  roles: { adminIds: readonly string[]; agentIds: readonly string[]; allowedTenantIds: readonly string[]; requesterMaxPriority: Priority };
  /** Null until all four Graph credentials and the mailbox are set. */
  graph: GraphConfig | null;
  /** Null until HUBSPOT_ACCESS_TOKEN is set. */
  hubspot: HubSpotConfig | null;
  mail: MailConfig;
  shutdownTimeoutMs: number;
  /** Bearer token for GET /metrics and detailed /readyz; undefined → /metrics is open on loopback only. */
  metricsToken: string | undefined;
  /** Attachment contents of tickets closed this long ago are purged (metadata kept); undefined → kept. */
  retentionDays: number | undefined;
  /** Path of the SLA policy file; undefined → the built-in policy. */
  slaConfigPath: string | undefined;
  /** Files on tickets: download links and where files from Teams may be fetched. */
  files: FilesConfig;
  /** Ticket events leaving the desk: the rules file, Slack's app credentials, PagerDuty's endpoint. */
  notify: NotifySettings;
  /** Engineering issue trackers (Linear, Jira): each null until its credentials are set. */
  trackers: TrackersConfig;
  /** The optional AI assistant; null (off) unless AI_ENDPOINT or AZURE_OPENAI_ENDPOINT is set. */
  ai: AiConfig | null;
}

export interface TrackersConfig {
  linear: { apiKey: string; apiUrl: string; webhookSecret: string | undefined } | null;
  jira: { baseUrl: string; email: string; apiToken: string; webhookSecret: string | undefined } | null;
  /** How often linked issues not done are read again, in case a webhook was lost. */
  pollIntervalMs: number;
}

/** The longest the assistant may take: Teams gives an invoke 5 s (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/overview), and the turn needs the rest. */
export const AI_TIMEOUT_CAP_MS = 4_000;

export interface AiConfig {
  /** Base URL of an OpenAI-compatible API, before `/chat/completions`. */
  endpoint: string;
  apiKey: string | undefined;
  /** The model, or on Azure the deployment name. */
  model: string;
  /** Azure OpenAI takes its key in an `api-key` header; everyone else in `Authorization: Bearer`. */
  auth: 'bearer' | 'api-key';
  /** Per call, capped at AI_TIMEOUT_CAP_MS. */
  timeoutMs: number;
  /** Tokens (prompt + completion) all replicas together may spend per UTC day. */
  dailyTokenBudget: number;
  /** Whether internal notes may be sent to the model (summaries, drafts); false by default. */
  includeInternalNotes: boolean;
}

export interface NotifySettings {
  /** Path of the notification rules file; undefined → only the built-in Teams routing. */
  configPath: string | undefined;
  /** Null until SLACK_BOT_TOKEN is set. */
  slack: { botToken: string; signingSecret: string | undefined; apiUrl: string } | null;
  pagerDutyEventsUrl: string;
}

export interface FilesConfig {
  /** Signs download links; undefined → a random secret per process (links die on restart, one replica only). */
  linkSecret: string | undefined;
  linkTtlMs: number;
  /** The public base URL download links start with; undefined → the address the service listens on. */
  publicUrl: string | undefined;
  /** Origins a file's `downloadUrl` (personal-chat files, SharePoint/OneDrive) may be fetched from. */
  downloadOrigins: readonly string[];
  /** The malware scanner (clamd over TCP); null → files are not scanned. */
  clamd: { host: string; port: number; timeoutMs: number } | null;
  /** Where attachment contents go (ATTACHMENT_STORE), and every store this service has settings for (to read rows kept in any of them). */
  store: AttachmentStoreConfig;
}

export interface AttachmentStoreConfig {
  kind: 'database' | 'folder' | 'azure' | 's3';
  /** ATTACHMENT_DIR: the folder store, when set. */
  dir: string | undefined;
  azure: { connectionString?: string; accountUrl?: string; accountName?: string; accountKey?: string; container: string } | null;
  s3: { bucket: string; region: string; endpoint?: string; forcePathStyle: boolean; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } } | null;
}

/** SharePoint Online (commercial, GCC High, DoD, China): where Teams keeps chat files. */
export const SHAREPOINT_ORIGINS: readonly string[] = ['https://*.sharepoint.com', 'https://*.sharepoint.us', 'https://*.sharepoint-mil.us', 'https://*.sharepoint.cn'];

/** One row per variable: the README's table is written from the same words. */
export const ENV_DOCS: ReadonlyArray<{ name: string; default: string; meaning: string }> = [
  { name: 'NODE_ENV', default: 'development', meaning: '`production` refuses to start without bot credentials.' },
  { name: 'PORT', default: '3978', meaning: 'HTTP port for `/api/messages`, `/healthz`, `/readyz`.' },
  { name: 'HOST', default: '127.0.0.1 in local mode, else 0.0.0.0', meaning: 'Interface to listen on. Local mode (no `BOT_ID`) has no auth: another interface is refused unless `ALLOW_UNAUTHENTICATED=true`.' },
  { name: 'ALLOW_UNAUTHENTICATED', default: 'false', meaning: '`true` lets local mode (no `BOT_ID`, no auth) listen beyond loopback, e.g. in a container reached through a private port. Never in production.' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'fatal, error, warn, info, debug, trace or silent. Logs are JSON lines on stdout.' },
  { name: 'DATABASE_URL', default: 'sqlite:./data/service-desk.db', meaning: 'Unset → SQLite file `./data/service-desk.db`; `sqlite:<path>` or `:memory:`; `postgres://…` → PostgreSQL.' },
  { name: 'MAX_BODY_BYTES', default: '262144', meaning: 'Largest request body accepted on `/api/messages`; larger ones get 413.' },
  { name: 'SHUTDOWN_TIMEOUT_MS', default: '10000', meaning: 'How long SIGTERM waits for in-flight turns and sends before closing anyway.' },
  { name: 'METRICS_TOKEN', default: '(open on loopback only)', meaning: 'When set, `GET /metrics` needs `Authorization: Bearer <token>`, and `/readyz` shows error details to that token. Unset, `/metrics` answers only when the service listens on loopback.' },
  { name: 'RETENTION_DAYS', default: '(keep)', meaning: 'Attachment contents of tickets closed more than this many days ago are deleted every night (names and sizes stay).' },
  { name: 'SLA_CONFIG', default: '(built-in policy)', meaning: 'Path of the SLA policy file (YAML or JSON): calendars, targets per tier and priority, warning thresholds. Checked at start; errors name the line.' },
  { name: 'BOT_ID', default: '(unset: local mode)', meaning: 'Microsoft Entra app id of the bot. Unset → no auth (Agents Playground, Emulator); refused in production.' },
  { name: 'BOT_PASSWORD', default: '', meaning: 'Client secret of the bot app (keep it in `env/.env.*.user` as `SECRET_BOT_PASSWORD`).' },
  { name: 'BOT_TENANT_ID', default: '', meaning: 'Tenant of the bot app; required for `SingleTenant`.' },
  { name: 'BOT_TYPE', default: 'MultiTenant', meaning: '`MultiTenant`, `SingleTenant` or `UserAssignedMsi`.' },
  { name: 'ToBotFromChannelOpenIdMetadataUrl, ToBotFromChannelTokenIssuer, ToChannelFromBotLoginUrl, ToChannelFromBotOAuthScope', default: 'public cloud', meaning: 'Bot Framework endpoints for sovereign clouds or a test identity provider. Set all four together (setting one switches botbuilder to custom mode).' },
  { name: 'ToBotFromEmulatorOpenIdMetadataUrl, OAuthUrl, CallerId, ChannelService, ValidateAuthority', default: 'public cloud', meaning: 'Other Bot Framework keys, passed through to botbuilder unchanged.' },
  { name: 'ADMIN_IDS', default: '', meaning: 'Comma-separated Entra object ids (or Teams `29:` ids) of admins.' },
  { name: 'AGENT_IDS', default: '', meaning: 'Comma-separated Entra object ids (or Teams ids) of support agents.' },
  { name: 'REQUESTER_MAX_PRIORITY', default: 'P2', meaning: 'The most urgent priority a requester may pick when opening a ticket (P1–P4); agents triage from there.' },
  { name: 'ALLOWED_TENANT_IDS', default: '(the bot tenant, if set)', meaning: 'Comma-separated tenants whose activities the bot processes; others are refused with 403. `*` allows every tenant; a `MultiTenant` bot needs one or the other to start.' },
  { name: 'ALLOWED_SERVICE_URLS', default: 'Teams\' public hosts (local mode: loopback)', meaning: 'Comma-separated origins an activity\'s `serviceUrl` may name (`https://smba.trafficmanager.net`, `http://127.0.0.1:*`; `*` in the host or port). Others are refused before the bot sends its token anywhere. Default: `smba.trafficmanager.net` and the GCC, GCC High and DoD hosts; in local mode `http://127.0.0.1:*`, `http://localhost:*`.' },
  { name: 'ALLOW_EMULATOR_TOKENS', default: 'false', meaning: '`true` also accepts Bot Framework Emulator tokens for `BOT_ID`; otherwise only Bot Framework channel tokens are.' },
  { name: 'GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET', default: '', meaning: 'App registration with Mail.ReadWrite and Mail.Send on the support mailbox. Set all three with `SUPPORT_MAILBOX` to turn email on.' },
  { name: 'SUPPORT_MAILBOX', default: '', meaning: 'UPN or id of the shared mailbox that becomes tickets.' },
  { name: 'GRAPH_BASE_URL', default: 'https://graph.microsoft.com', meaning: 'Graph endpoint (national clouds, proxies, test servers).' },
  { name: 'AZURE_AUTHORITY_HOST', default: 'https://login.microsoftonline.com', meaning: 'Entra authority for the Graph token.' },
  { name: 'GRAPH_NOTIFICATION_URL', default: '(unset: polling only)', meaning: 'Public HTTPS URL of `/api/notifications/graph` for change notifications.' },
  { name: 'GRAPH_POLL_INTERVAL', default: '30s', meaning: 'How often the mailbox is read by delta query (`30s`, `5m`). With notifications on it is the safety net.' },
  { name: 'GRAPH_SUBSCRIPTION_MINUTES', default: '4230', meaning: 'Lifetime asked for the mail change-notification subscription; it is renewed when a quarter is left (Graph allows up to 10080 for mail).' },
  { name: 'MAIL_REOPEN_DAYS', default: '7', meaning: 'A customer reply reopens a ticket resolved within this many days; later ones open a new ticket linked to the old one.' },
  { name: 'MAIL_ACKNOWLEDGE', default: 'true', meaning: 'Send an acknowledgement email (with the ticket reference) for each ticket opened by email. Never sent to automatic senders.' },
  { name: 'MAIL_ACK_TEMPLATE', default: '(built-in)', meaning: 'Path of a text file for the acknowledgement; `{{reference}}`, `{{subject}}` and `{{name}}` are filled in.' },
  { name: 'MAIL_ACK_MAX_PER_HOUR', default: '3', meaning: 'Most acknowledgements one sender gets per hour (stops ping-pong with other robots).' },
  { name: 'MAIL_MESSAGE_TIMEOUT', default: '60s', meaning: 'Longest one received email may take to be filed; one that fails or runs out twice (or was being read when the service died, twice) is quarantined: `npm run mail -- quarantine`.' },
  { name: 'MAIL_ACK_MAX_PER_HOUR_TOTAL', default: '200', meaning: 'Most acknowledgements the desk sends per hour to everyone together, so a flood of forged senders cannot use it for backscatter. Acknowledgements only ever go to senders the receiving server authenticated (SPF/DKIM/DMARC).' },
  { name: 'ATTACHMENT_MAX_BYTES', default: '10485760', meaning: 'Attachments up to this size are stored; larger ones are recorded with a link to the message in the mailbox.' },
  { name: 'ATTACHMENT_DIR', default: '', meaning: 'Folder for attachment contents (the `folder` store): files named by the SHA-256 of their bytes, readable by the service\'s user only. Setting it without ATTACHMENT_STORE selects the folder store, as before.' },
  { name: 'ATTACHMENT_STORE', default: '`database` (`folder` when ATTACHMENT_DIR is set)', meaning: 'Where attachment contents are kept: `database`, `folder` (ATTACHMENT_DIR), `azure` (Azure Blob Storage) or `s3` (Amazon S3 or an S3-compatible server). Identical files are kept once. Files already kept elsewhere stay readable as long as that store\'s settings are set; `npm run attachments -- migrate --to <store>` moves them.' },
  { name: 'AZURE_STORAGE_CONNECTION_STRING', default: '', meaning: 'The storage account for `azure`, with AccountKey (the desk redirects downloads to 60-second SAS URLs; a connection string with a SAS token instead is refused). Or set AZURE_STORAGE_ACCOUNT_URL, AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY.' },
  { name: 'AZURE_STORAGE_ACCOUNT_URL', default: '', meaning: 'Blob endpoint of the account (`https://<account>.blob.core.windows.net`), with AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY, instead of a connection string.' },
  { name: 'AZURE_STORAGE_ACCOUNT_NAME', default: '', meaning: 'The storage account\'s name (with AZURE_STORAGE_ACCOUNT_URL).' },
  { name: 'AZURE_STORAGE_ACCOUNT_KEY', default: '', meaning: 'An access key of the account (with AZURE_STORAGE_ACCOUNT_URL); signs the SAS URLs downloads are redirected to.' },
  { name: 'AZURE_STORAGE_CONTAINER', default: 'desk-attachments', meaning: 'Blob container for attachments; created (private) when missing.' },
  { name: 'S3_BUCKET', default: '', meaning: 'Bucket for `s3` (it must exist). Credentials come from the AWS SDK\'s default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or the instance/container role. Downloads are redirected to 60-second presigned URLs.' },
  { name: 'S3_REGION', default: 'us-east-1', meaning: 'The bucket\'s region.' },
  { name: 'S3_ENDPOINT', default: '(Amazon S3)', meaning: 'Endpoint of an S3-compatible server (MinIO, Ceph, R2…), e.g. `https://s3.internal.example:9000`.' },
  { name: 'S3_FORCE_PATH_STYLE', default: 'false', meaning: '`true` addresses the bucket in the path (`/bucket/key`), as most S3-compatible servers need.' },
  { name: 'PUBLIC_URL', default: '(the address it listens on)', meaning: 'Public HTTPS base URL of this service (the bot endpoint without `/api/messages`); signed download links for ticket files start with it.' },
  { name: 'ATTACHMENT_LINK_SECRET', default: '(random per start)', meaning: 'At least 32 characters that sign file download links (`openssl rand -base64 48`). Unset → a random secret each start: links stop working on restart and on other replicas, so set it when running more than one.' },
  { name: 'ATTACHMENT_LINK_TTL', default: '15m', meaning: 'How long a download link for a ticket file works (`5m`, `1h`; at most 24h). Links are made for one person when they ask, after checking they may see the ticket.' },
  { name: 'CLAMD_HOST', default: '(no scanning)', meaning: 'Where clamd (ClamAV\'s daemon) listens, `host:port` (port 3310 when left out). Set → each kept file is scanned before anyone can download it: “scanning…” until then, held back for good when malware is found. Unset → files are served unscanned and cards say “not scanned”. See “Malware scanning”.' },
  { name: 'CLAMD_TIMEOUT', default: '60s', meaning: 'Longest one scan (connect, send, answer) may take before it is tried again; a file that times out 3 times is held back as “could not be scanned”.' },
  { name: 'TEAMS_FILE_HOSTS', default: 'SharePoint Online hosts', meaning: 'Comma-separated origins a file sent to the bot in Teams may be downloaded from (its pre-authenticated `downloadUrl`). Default: `https://*.sharepoint.com`, `.sharepoint.us`, `.sharepoint-mil.us`, `.sharepoint.cn`. Inline images are fetched only from the activity\'s own `serviceUrl` host.' },
  { name: 'HUBSPOT_ACCESS_TOKEN', default: '', meaning: 'Private-app token; turns HubSpot enrichment on.' },
  { name: 'HUBSPOT_BASE_URL', default: 'https://api.hubapi.com', meaning: 'HubSpot API endpoint.' },
  { name: 'HUBSPOT_CLIENT_SECRET', default: '', meaning: 'App client secret used to verify webhook signatures (v3); without it `/api/webhooks/hubspot` refuses everything.' },
  { name: 'HUBSPOT_TIER_PROPERTY', default: 'support_tier', meaning: 'Company property holding the support tier; `crmTiers` in the SLA file maps its values to SLA tiers.' },
  { name: 'HUBSPOT_LIMIT_PER_10S', default: '90', meaning: 'Most HubSpot requests per rolling 10 seconds (your account allows 100 on Free/Starter, 190 on Professional/Enterprise; stay a little under).' },
  { name: 'HUBSPOT_DAILY_LIMIT', default: '240000', meaning: 'Most HubSpot requests per day (250,000 Free/Starter, 650,000 Professional, 1,000,000 Enterprise).' },
  { name: 'HUBSPOT_CACHE_TTL', default: '24h', meaning: 'How long a requester\'s CRM facts are reused without asking HubSpot (`30m`, `24h`).' },
  { name: 'HUBSPOT_TICKET_SYNC', default: 'false', meaning: '`true` mirrors each ticket as a HubSpot ticket (associated with the contact and company) and keeps its status in step.' },
  { name: 'NOTIFY_CONFIG', default: '(built-in Teams routing only)', meaning: 'Path of the notification rules file (YAML or JSON): integrations (signed webhooks, PagerDuty, Slack channels) and the rules that send ticket events to them and to Teams channels. Checked at start; errors name the line. See "Ticket events outside Teams".' },
  { name: 'SLACK_BOT_TOKEN', default: '(Slack off)', meaning: 'The Slack app\'s bot token (`xoxb-…`; scopes `chat:write`, `users:read`, `users:read.email`, `commands`). Needed by `type: slack` integrations and the `/ticket` command.' },
  { name: 'SLACK_SIGNING_SECRET', default: '(Slack requests refused)', meaning: 'The Slack app\'s signing secret: every request to `/api/slack/interactivity` and `/api/slack/commands` is verified with it (v0 signature, 5-minute window).' },
  { name: 'SLACK_API_URL', default: 'https://slack.com/api/', meaning: 'Base URL of Slack\'s Web API (tests point it at a fake).' },
  { name: 'PAGERDUTY_EVENTS_URL', default: 'https://events.pagerduty.com/v2/enqueue', meaning: 'PagerDuty Events API v2 endpoint (EU accounts: `https://events.eu.pagerduty.com/v2/enqueue`). Routing keys come from the variables the rules file names (`routingKeyEnv`, default `PAGERDUTY_ROUTING_KEY`).' },
  { name: 'LINEAR_API_KEY', default: '(Linear off)', meaning: 'A Linear personal API key (or OAuth token with `Bearer `): turns Linear issue links on (`link INC-42 ENG-123`, "Create issue" on the card).' },
  { name: 'LINEAR_API_URL', default: 'https://api.linear.app/graphql', meaning: 'Linear\'s GraphQL endpoint (tests point it at a fake).' },
  { name: 'LINEAR_WEBHOOK_SECRET', default: '(Linear webhooks refused)', meaning: 'The signing secret of the Linear webhook that calls `/api/webhooks/linear` (Issues and Comments); checks `Linear-Signature` and the one-minute `webhookTimestamp`.' },
  { name: 'JIRA_BASE_URL', default: '(Jira off)', meaning: 'Your Jira Cloud site, `https://<site>.atlassian.net`; with `JIRA_EMAIL` and `JIRA_API_TOKEN` turns Jira issue links on.' },
  { name: 'JIRA_EMAIL', default: '', meaning: 'The Atlassian account the desk acts as in Jira (basic auth with the API token).' },
  { name: 'JIRA_API_TOKEN', default: '', meaning: 'That account\'s API token (id.atlassian.com → Security → API tokens).' },
  { name: 'JIRA_WEBHOOK_SECRET', default: '(Jira webhooks refused)', meaning: 'The secret of the admin webhook that calls `/api/webhooks/jira` (issue updated, comment created); checks `X-Hub-Signature`.' },
  { name: 'ISSUE_POLL_INTERVAL', default: '5m', meaning: 'How often linked issues that are not done are read again from Linear/Jira, in case a webhook was lost.' },
  { name: 'AI_ENDPOINT', default: '(assistant off)', meaning: 'Base URL of an OpenAI-compatible API (`https://<resource>.openai.azure.com/openai/v1`, `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` for Ollama). Set → the optional AI assistant is on: Summary and Suggest reply for agents, triage suggestions on new tickets. See "AI assistant (optional)".' },
  { name: 'AI_API_KEY', default: '', meaning: 'The API key; sent as `Authorization: Bearer`, or as `api-key` to Azure OpenAI hosts. Never logged.' },
  { name: 'AI_MODEL', default: 'gpt-4o-mini', meaning: 'The model, or the deployment name on Azure OpenAI.' },
  { name: 'AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, AZURE_OPENAI_DEPLOYMENT', default: '(unset)', meaning: 'Azure OpenAI settings, used when `AI_ENDPOINT` is unset: the resource URL (`https://<resource>.openai.azure.com`; its v1 API is used), its key and the deployment name.' },
  { name: 'AI_TIMEOUT', default: '3s', meaning: 'Longest one assistant call may take; past it the turn answers without the assistant. Capped at 4s so a card button answers within Teams\' 5-second limit.' },
  { name: 'AI_DAILY_TOKEN_BUDGET', default: '200000', meaning: 'Tokens (prompt + completion) all replicas together may spend per UTC day; once spent, the assistant says so until midnight UTC.' },
  { name: 'AI_INCLUDE_INTERNAL_NOTES', default: 'false', meaning: '`true` lets internal notes go to the model (summaries, suggested replies). Email addresses, phone numbers and secrets are always redacted first.' },
  { name: 'HUBSPOT_WEBHOOK_URL', default: '(from the request)', meaning: 'Public URL of `/api/webhooks/hubspot` as configured in HubSpot, when a proxy changes the host or scheme (signatures cover the URL).' },
];

type Env = Readonly<Record<string, string | undefined>>;

const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().trim().optional());
const httpsUrl = (what: string) =>
  z.string().trim().url(`${what} must be a URL such as https://example.com`).refine((u) => u.startsWith('https://'), `${what} must use https://`);
/** A duration in the grammar of src/domain/duration.ts (`30s`, `5m`, `1h`; a bare number is milliseconds), within bounds. */
const duration = (what: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .transform((text, ctx) => {
      const parsed = parseDuration(text, { bareUnit: 'ms' });
      const ms = parsed.ok && !parsed.duration.business ? clockMs(parsed.duration) : NaN;
      if (!Number.isFinite(ms) || ms < min || ms > max) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${what} must be a duration between ${min / 1000}s and ${max / 3_600_000}h, such as 30s or 5m` });
        return z.NEVER;
      }
      return ms;
    });
const flag = (name: string) => z.preprocess(emptyToUndefined, z.enum(['true', 'false'], { message: `${name} must be true or false` }).default('false'));
const idList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : []),
  z.array(z.string()),
);

const schema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int('PORT must be a whole number').min(0).max(65535).default(3978)),
  HOST: optionalString,
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  DATABASE_URL: optionalString,
  MAX_BODY_BYTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(256 * 1024)),
  SHUTDOWN_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(120_000).default(10_000)),
  SLA_CONFIG: optionalString,
  NOTIFY_CONFIG: optionalString,
  SLACK_BOT_TOKEN: z.preprocess(emptyToUndefined, z.string().trim().regex(/^xox[bp]-/, 'SLACK_BOT_TOKEN must be a Slack bot token (xoxb-…)').optional()),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_API_URL: z.preprocess(emptyToUndefined, z.string().trim().url('SLACK_API_URL must be a URL such as https://slack.com/api/').default('https://slack.com/api/')),
  PAGERDUTY_EVENTS_URL: z.preprocess(emptyToUndefined, z.string().trim().url('PAGERDUTY_EVENTS_URL must be a URL such as https://events.pagerduty.com/v2/enqueue').default('https://events.pagerduty.com/v2/enqueue')),
  METRICS_TOKEN: optionalString,
  RETENTION_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int('RETENTION_DAYS must be a whole number of days').min(1).max(36_500).optional()),
  BOT_ID: optionalString,
  BOT_PASSWORD: optionalString,
  BOT_TENANT_ID: optionalString,
  BOT_TYPE: z.preprocess(emptyToUndefined, z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMsi']).default('MultiTenant')),
  ADMIN_IDS: idList,
  AGENT_IDS: idList,
  ALLOWED_TENANT_IDS: idList,
  REQUESTER_MAX_PRIORITY: z.preprocess(emptyToUndefined, z.enum(PRIORITIES, { message: 'REQUESTER_MAX_PRIORITY must be P1, P2, P3 or P4' }).default('P2')),
  ALLOWED_SERVICE_URLS: idList,
  ALLOW_EMULATOR_TOKENS: flag('ALLOW_EMULATOR_TOKENS'),
  ALLOW_UNAUTHENTICATED: flag('ALLOW_UNAUTHENTICATED'),
  GRAPH_TENANT_ID: optionalString,
  GRAPH_CLIENT_ID: optionalString,
  GRAPH_CLIENT_SECRET: optionalString,
  SUPPORT_MAILBOX: optionalString,
  GRAPH_BASE_URL: z.preprocess(emptyToUndefined, httpsUrl('GRAPH_BASE_URL').default('https://graph.microsoft.com')),
  AZURE_AUTHORITY_HOST: z.preprocess(emptyToUndefined, httpsUrl('AZURE_AUTHORITY_HOST').default('https://login.microsoftonline.com')),
  GRAPH_NOTIFICATION_URL: z.preprocess(emptyToUndefined, httpsUrl('GRAPH_NOTIFICATION_URL').optional()),
  GRAPH_POLL_INTERVAL: z.preprocess(emptyToUndefined, duration('GRAPH_POLL_INTERVAL', 1_000, 3_600_000).default('30s')),
  GRAPH_SUBSCRIPTION_MINUTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(45, 'GRAPH_SUBSCRIPTION_MINUTES must be at least 45').max(10_080, 'GRAPH_SUBSCRIPTION_MINUTES can be at most 10080 (7 days), the limit for mail').default(4_230)),
  MAIL_REOPEN_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().min(0).max(365).default(7)),
  MAIL_ACKNOWLEDGE: z.preprocess(emptyToUndefined, z.enum(['true', 'false'], { message: 'MAIL_ACKNOWLEDGE must be true or false' }).default('true')),
  MAIL_ACK_TEMPLATE: optionalString,
  MAIL_ACK_MAX_PER_HOUR: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(1000).default(3)),
  MAIL_MESSAGE_TIMEOUT: z.preprocess(emptyToUndefined, duration('MAIL_MESSAGE_TIMEOUT', 1_000, 3_600_000).default('60s')),
  MAIL_ACK_MAX_PER_HOUR_TOTAL: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(100_000).default(200)),
  ATTACHMENT_MAX_BYTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(150 * 1024 * 1024).default(10 * 1024 * 1024)),
  ATTACHMENT_DIR: optionalString,
  ATTACHMENT_STORE: z.preprocess(emptyToUndefined, z.enum(['database', 'folder', 'azure', 's3'], { message: 'ATTACHMENT_STORE must be database, folder, azure or s3' }).optional()),
  AZURE_STORAGE_CONNECTION_STRING: optionalString,
  AZURE_STORAGE_ACCOUNT_URL: z.preprocess(emptyToUndefined, z.string().trim().url('AZURE_STORAGE_ACCOUNT_URL must be a URL such as https://contosodesk.blob.core.windows.net').optional()),
  AZURE_STORAGE_ACCOUNT_NAME: optionalString,
  AZURE_STORAGE_ACCOUNT_KEY: optionalString,
  AZURE_STORAGE_CONTAINER: z.preprocess(emptyToUndefined, z.string().regex(/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/, 'AZURE_STORAGE_CONTAINER must be 3-63 lower-case letters, digits and single hyphens').default('desk-attachments')),
  S3_BUCKET: z.preprocess(emptyToUndefined, z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'S3_BUCKET must be a bucket name (3-63 lower-case letters, digits, dots and hyphens)').optional()),
  S3_REGION: z.preprocess(emptyToUndefined, z.string().trim().default('us-east-1')),
  S3_ENDPOINT: z.preprocess(emptyToUndefined, z.string().trim().url('S3_ENDPOINT must be a URL such as https://s3.internal.example:9000').optional()),
  S3_FORCE_PATH_STYLE: z.preprocess(emptyToUndefined, z.enum(['true', 'false'], { message: 'S3_FORCE_PATH_STYLE must be true or false' }).default('false')),
  PUBLIC_URL: z.preprocess(emptyToUndefined, z.string().trim().url('PUBLIC_URL must be a URL such as https://desk.contoso.com').optional()),
  ATTACHMENT_LINK_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'ATTACHMENT_LINK_SECRET must be at least 32 characters (openssl rand -base64 48)').optional()),
  ATTACHMENT_LINK_TTL: z.preprocess(emptyToUndefined, duration('ATTACHMENT_LINK_TTL', 10_000, 86_400_000).default('15m')),
  TEAMS_FILE_HOSTS: idList,
  CLAMD_HOST: optionalString,
  CLAMD_TIMEOUT: z.preprocess(emptyToUndefined, duration('CLAMD_TIMEOUT', 1_000, 3_600_000).default('60s')),
  HUBSPOT_ACCESS_TOKEN: optionalString,
  HUBSPOT_BASE_URL: z.preprocess(
    emptyToUndefined,
    z.string().trim().url('HUBSPOT_BASE_URL must be a URL such as https://api.hubapi.com').default('https://api.hubapi.com'),
  ),
  HUBSPOT_CLIENT_SECRET: optionalString,
  HUBSPOT_TIER_PROPERTY: z.preprocess(emptyToUndefined, z.string().trim().regex(/^[a-z0-9_]+$/, 'HUBSPOT_TIER_PROPERTY must be a property\'s internal name, such as support_tier').default('support_tier')),
  HUBSPOT_LIMIT_PER_10S: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(1000).default(90)),
  HUBSPOT_DAILY_LIMIT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(240_000)),
  HUBSPOT_CACHE_TTL: z.preprocess(emptyToUndefined, duration('HUBSPOT_CACHE_TTL', 1_000, 30 * 86_400_000).default('24h')),
  HUBSPOT_TICKET_SYNC: z.preprocess(emptyToUndefined, z.enum(['true', 'false'], { message: 'HUBSPOT_TICKET_SYNC must be true or false' }).default('false')),
  HUBSPOT_WEBHOOK_URL: z.preprocess(emptyToUndefined, z.string().trim().url('HUBSPOT_WEBHOOK_URL must be a URL').optional()),
  LINEAR_API_KEY: optionalString,
  LINEAR_API_URL: z.preprocess(emptyToUndefined, z.string().trim().url('LINEAR_API_URL must be a URL such as https://api.linear.app/graphql').default('https://api.linear.app/graphql')),
  LINEAR_WEBHOOK_SECRET: optionalString,
  JIRA_BASE_URL: z.preprocess(emptyToUndefined, z.string().trim().url('JIRA_BASE_URL must be a URL such as https://your-site.atlassian.net').optional()),
  JIRA_EMAIL: optionalString,
  JIRA_API_TOKEN: optionalString,
  JIRA_WEBHOOK_SECRET: optionalString,
  ISSUE_POLL_INTERVAL: z.preprocess(emptyToUndefined, duration('ISSUE_POLL_INTERVAL', 1_000, 86_400_000).default('5m')),
  AI_ENDPOINT: z.preprocess(emptyToUndefined, z.string().trim().url('AI_ENDPOINT must be a URL such as https://<resource>.openai.azure.com/openai/v1 or http://127.0.0.1:11434/v1').refine((u) => /^https?:\/\//.test(u), 'AI_ENDPOINT must use http:// or https://').optional()),
  AI_API_KEY: optionalString,
  AI_MODEL: z.preprocess(emptyToUndefined, z.string().trim().max(200).default('gpt-4o-mini')),
  AZURE_OPENAI_ENDPOINT: z.preprocess(emptyToUndefined, httpsUrl('AZURE_OPENAI_ENDPOINT').optional()),
  AZURE_OPENAI_API_KEY: optionalString,
  AZURE_OPENAI_DEPLOYMENT: optionalString,
  AI_TIMEOUT: z.preprocess(emptyToUndefined, duration('AI_TIMEOUT', 100, 60_000).default('3s')),
  AI_DAILY_TOKEN_BUDGET: z.preprocess(emptyToUndefined, z.coerce.number().int('AI_DAILY_TOKEN_BUDGET must be a whole number of tokens').min(0).max(1_000_000_000).default(200_000)),
  AI_INCLUDE_INTERNAL_NOTES: flag('AI_INCLUDE_INTERNAL_NOTES'),
});

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Parses the whole environment and reports every problem at once, each with what to do about it. */
export function parseConfig(env: Env): ConfigResult {
  const problems: string[] = [];
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
    return { ok: false, problems };
  }
  const e = parsed.data;

  const database = parseDatabaseUrl(e.DATABASE_URL);
  if (typeof database === 'string') problems.push(database);
  const clamd = e.CLAMD_HOST === undefined ? undefined : parseClamdHost(e.CLAMD_HOST);
  if (clamd && 'error' in clamd) problems.push(clamd.error);

  const endpoints: Partial<Record<BotFrameworkEndpointKey, string>> = {};
  for (const key of BOT_FRAMEWORK_ENDPOINT_KEYS) {
    const value = env[key]?.trim();
    if (value) endpoints[key] = value;
  }
  if (PARAMETERIZED_KEYS.some((key) => endpoints[key])) {
    const missing = REQUIRED_WHEN_PARAMETERIZED.filter((key) => !endpoints[key]);
    if (missing.length > 0) {
      problems.push(
        `${missing.join(', ')}: set these too. Once one Bot Framework endpoint key is set, botbuilder stops using public-cloud defaults for the others.`,
      );
    }
  }
  const loginUrl = endpoints.ToChannelFromBotLoginUrl;
  if (loginUrl && !loginUrl.startsWith('https://')) {
    problems.push('ToChannelFromBotLoginUrl: must use https:// (MSAL refuses insecure authorities).');
  }

  if (e.BOT_ID) {
    if (e.BOT_TYPE !== 'UserAssignedMsi' && !e.BOT_PASSWORD) {
      problems.push('BOT_PASSWORD: required with BOT_ID (put it in env/.env.<env>.user as SECRET_BOT_PASSWORD).');
    }
    if (e.BOT_TYPE === 'SingleTenant' && !e.BOT_TENANT_ID) {
      problems.push('BOT_TENANT_ID: required when BOT_TYPE is SingleTenant.');
    }
    if (e.BOT_TYPE === 'MultiTenant' && e.ALLOWED_TENANT_IDS.length === 0 && !e.BOT_TENANT_ID) {
      problems.push(
        'ALLOWED_TENANT_IDS: required for a MultiTenant bot without BOT_TENANT_ID: list the tenants whose people may use it (comma-separated ids), or set it to * to allow every tenant that installs the app.',
      );
    }
  } else if (e.NODE_ENV === 'production') {
    problems.push(
      'BOT_ID: required when NODE_ENV=production. Without it the bot accepts unauthenticated requests; set BOT_ID and BOT_PASSWORD from your Azure Bot registration.',
    );
  }
  const host = e.HOST ?? (e.BOT_ID ? '0.0.0.0' : '127.0.0.1');
  if (!e.BOT_ID && !isLoopbackHost(host) && e.ALLOW_UNAUTHENTICATED !== 'true') {
    problems.push(
      `HOST: ${host} without BOT_ID would let anyone who reaches this port act as any Teams user (local mode has no authentication). Set BOT_ID and BOT_PASSWORD, listen on 127.0.0.1, or set ALLOW_UNAUTHENTICATED=true if this network is private on purpose.`,
    );
  }
  if (e.ALLOWED_TENANT_IDS.includes('*') && e.ALLOWED_TENANT_IDS.length > 1) {
    problems.push('ALLOWED_TENANT_IDS: * allows every tenant; list tenant ids or *, not both.');
  }
  for (const pattern of e.TEAMS_FILE_HOSTS.filter((p) => !isOriginPattern(p))) {
    problems.push(`TEAMS_FILE_HOSTS: ${pattern} is not an origin such as https://*.sharepoint.com (* in the host or as the port)`);
  }
  for (const pattern of e.ALLOWED_SERVICE_URLS.filter((p) => !isOriginPattern(p))) {
    problems.push(`ALLOWED_SERVICE_URLS: ${pattern} is not an origin such as https://smba.trafficmanager.net or http://127.0.0.1:* (* in the host or as the port)`);
  }

  const graphParts = { GRAPH_TENANT_ID: e.GRAPH_TENANT_ID, GRAPH_CLIENT_ID: e.GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET: e.GRAPH_CLIENT_SECRET, SUPPORT_MAILBOX: e.SUPPORT_MAILBOX };
  const graphSet = Object.entries(graphParts).filter(([, v]) => v);
  if (graphSet.length > 0 && graphSet.length < 4) {
    const missing = Object.entries(graphParts).filter(([, v]) => !v).map(([k]) => k);
    problems.push(`${missing.join(', ')}: set these too, or unset the other Graph variables, to turn email intake on.`);
  }
  const jiraSet = [e.JIRA_BASE_URL, e.JIRA_EMAIL, e.JIRA_API_TOKEN].filter(Boolean).length;
  if (jiraSet > 0 && jiraSet < 3) problems.push('JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN: set all three to turn Jira issue links on, or none.');
  if (e.HUBSPOT_CLIENT_SECRET && !e.HUBSPOT_ACCESS_TOKEN) {
    problems.push('HUBSPOT_ACCESS_TOKEN: required when HUBSPOT_CLIENT_SECRET is set.');
  }

  const storeKind = e.ATTACHMENT_STORE ?? (e.ATTACHMENT_DIR ? 'folder' : 'database');
  const azureByKey = [e.AZURE_STORAGE_ACCOUNT_URL, e.AZURE_STORAGE_ACCOUNT_NAME, e.AZURE_STORAGE_ACCOUNT_KEY];
  if (!e.AZURE_STORAGE_CONNECTION_STRING && azureByKey.some(Boolean) && !azureByKey.every(Boolean)) {
    problems.push('AZURE_STORAGE_ACCOUNT_URL, AZURE_STORAGE_ACCOUNT_NAME, AZURE_STORAGE_ACCOUNT_KEY: set all three (or AZURE_STORAGE_CONNECTION_STRING instead).');
  }
  if (storeKind === 'folder' && !e.ATTACHMENT_DIR) problems.push('ATTACHMENT_DIR: required when ATTACHMENT_STORE is folder (a folder only the service\'s user can read).');
  if (storeKind === 'azure' && !e.AZURE_STORAGE_CONNECTION_STRING && !azureByKey.every(Boolean)) {
    problems.push('AZURE_STORAGE_CONNECTION_STRING: required when ATTACHMENT_STORE is azure (or AZURE_STORAGE_ACCOUNT_URL, AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY).');
  }
  // A connection string with a SAS token (SharedAccessSignature=, no AccountKey) cannot sign: the
  // server-side copy in `put` and every download redirect need a shared key (Service SAS:
  // https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas), so it is refused here
  // rather than failing on the first file.
  if (e.AZURE_STORAGE_CONNECTION_STRING && !/(^|;)\s*(AccountKey=|UseDevelopmentStorage=true)/i.test(e.AZURE_STORAGE_CONNECTION_STRING)) {
    problems.push('AZURE_STORAGE_CONNECTION_STRING: needs AccountKey=… (a connection string with a SAS token cannot sign download URLs); or set AZURE_STORAGE_ACCOUNT_URL, AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY.');
  }
  if (storeKind === 's3' && !e.S3_BUCKET) problems.push('S3_BUCKET: required when ATTACHMENT_STORE is s3 (with S3_REGION, and S3_ENDPOINT for an S3-compatible server).');

  if (problems.length > 0 || typeof database === 'string') return { ok: false, problems };

  const allowedTenants = e.ALLOWED_TENANT_IDS.includes('*') ? [] : e.ALLOWED_TENANT_IDS.length > 0 ? e.ALLOWED_TENANT_IDS : e.BOT_TENANT_ID ? [e.BOT_TENANT_ID] : [];

  const config: Config = {
    env: e.NODE_ENV,
    http: { host, port: e.PORT, maxBodyBytes: e.MAX_BODY_BYTES },
    logLevel: e.LOG_LEVEL,
    database,
    bot: {
      appId: e.BOT_ID,
      password: e.BOT_PASSWORD,
      tenantId: e.BOT_TENANT_ID,
      type: e.BOT_TYPE,
      endpoints,
      inbound: {
        allowedServiceUrls:
          e.ALLOWED_SERVICE_URLS.length > 0 ? e.ALLOWED_SERVICE_URLS.map((u) => u.replace(/\/+$/, '').toLowerCase()) : e.BOT_ID ? TEAMS_SERVICE_ORIGINS : LOOPBACK_ORIGINS,
        allowEmulatorTokens: e.ALLOW_EMULATOR_TOKENS === 'true',
        channelId: e.BOT_ID ? 'msteams' : undefined,
        allowedTenantIds: allowedTenants.length === 0 ? '*' : allowedTenants,
      },
    },
    roles: {
      adminIds: e.ADMIN_IDS,
      agentIds: e.AGENT_IDS,
      requesterMaxPriority: e.REQUESTER_MAX_PRIORITY,
      // Empty means every tenant here (src/domain/roles.ts).
      allowedTenantIds: allowedTenants,
    },
    graph:
      graphSet.length === 4
        ? {
            tenantId: e.GRAPH_TENANT_ID!,
            clientId: e.GRAPH_CLIENT_ID!,
            clientSecret: e.GRAPH_CLIENT_SECRET!,
            mailbox: e.SUPPORT_MAILBOX!,
            baseUrl: e.GRAPH_BASE_URL,
            authorityHost: e.AZURE_AUTHORITY_HOST,
            notificationUrl: e.GRAPH_NOTIFICATION_URL,
            pollIntervalMs: e.GRAPH_POLL_INTERVAL,
            subscriptionMinutes: e.GRAPH_SUBSCRIPTION_MINUTES,
          }
        : null,
    hubspot: e.HUBSPOT_ACCESS_TOKEN
      ? {
          accessToken: e.HUBSPOT_ACCESS_TOKEN,
          baseUrl: e.HUBSPOT_BASE_URL.replace(/\/+$/, ''),
          clientSecret: e.HUBSPOT_CLIENT_SECRET,
          tierProperty: e.HUBSPOT_TIER_PROPERTY,
          limitPer10s: e.HUBSPOT_LIMIT_PER_10S,
          dailyLimit: e.HUBSPOT_DAILY_LIMIT,
          cacheTtlMs: e.HUBSPOT_CACHE_TTL,
          ticketSync: e.HUBSPOT_TICKET_SYNC === 'true',
          webhookUrl: e.HUBSPOT_WEBHOOK_URL,
        }
      : null,
    mail: {
      reopenWindowMs: e.MAIL_REOPEN_DAYS * 86_400_000,
      acknowledge: e.MAIL_ACKNOWLEDGE === 'true',
      ackTemplatePath: e.MAIL_ACK_TEMPLATE,
      ackMaxPerHour: e.MAIL_ACK_MAX_PER_HOUR,
      ackMaxPerHourTotal: e.MAIL_ACK_MAX_PER_HOUR_TOTAL,
      messageTimeoutMs: e.MAIL_MESSAGE_TIMEOUT,
      attachmentMaxBytes: e.ATTACHMENT_MAX_BYTES,
      attachmentDir: e.ATTACHMENT_DIR,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN,
    retentionDays: e.RETENTION_DAYS,
    slaConfigPath: e.SLA_CONFIG,
    notify: {
      configPath: e.NOTIFY_CONFIG,
      slack: e.SLACK_BOT_TOKEN ? { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, apiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/` } : null,
      pagerDutyEventsUrl: e.PAGERDUTY_EVENTS_URL,
    },
    trackers: {
      linear: e.LINEAR_API_KEY ? { apiKey: e.LINEAR_API_KEY, apiUrl: e.LINEAR_API_URL, webhookSecret: e.LINEAR_WEBHOOK_SECRET } : null,
      jira: e.JIRA_BASE_URL && e.JIRA_EMAIL && e.JIRA_API_TOKEN ? { baseUrl: e.JIRA_BASE_URL.replace(/\/+$/, ''), email: e.JIRA_EMAIL, apiToken: e.JIRA_API_TOKEN, webhookSecret: e.JIRA_WEBHOOK_SECRET } : null,
      pollIntervalMs: e.ISSUE_POLL_INTERVAL,
    },
    files: {
      linkSecret: e.ATTACHMENT_LINK_SECRET,
      linkTtlMs: e.ATTACHMENT_LINK_TTL,
      publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
      downloadOrigins: e.TEAMS_FILE_HOSTS.length > 0 ? e.TEAMS_FILE_HOSTS.map((u) => u.replace(/\/+$/, '').toLowerCase()) : SHAREPOINT_ORIGINS,
      clamd: clamd && 'host' in clamd ? { ...clamd, timeoutMs: e.CLAMD_TIMEOUT } : null,
      store: {
        kind: storeKind,
        dir: e.ATTACHMENT_DIR,
        azure:
          e.AZURE_STORAGE_CONNECTION_STRING || azureByKey.every(Boolean)
            ? e.AZURE_STORAGE_CONNECTION_STRING
              ? { connectionString: e.AZURE_STORAGE_CONNECTION_STRING, container: e.AZURE_STORAGE_CONTAINER }
              : { accountUrl: e.AZURE_STORAGE_ACCOUNT_URL!, accountName: e.AZURE_STORAGE_ACCOUNT_NAME!, accountKey: e.AZURE_STORAGE_ACCOUNT_KEY!, container: e.AZURE_STORAGE_CONTAINER }
            : null,
        s3: e.S3_BUCKET
          ? {
              bucket: e.S3_BUCKET,
              region: e.S3_REGION,
              ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
              forcePathStyle: e.S3_FORCE_PATH_STYLE === 'true',
              // The SDK's own chain reads these from the process; given here, the keys in this
              // configuration win (and the rest of the chain: profiles, roles, applies otherwise).
              ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } } : {}),
            }
          : null,
      },
    },
    ai: aiConfig(e),
  };
  return { ok: true, config: deepFreeze(config) };
}

/** The assistant's settings: AI_ENDPOINT first, else Azure OpenAI's resource (its v1 API), else off. */
function aiConfig(e: z.infer<typeof schema>): AiConfig | null {
  const common = { timeoutMs: Math.min(e.AI_TIMEOUT, AI_TIMEOUT_CAP_MS), dailyTokenBudget: e.AI_DAILY_TOKEN_BUDGET, includeInternalNotes: e.AI_INCLUDE_INTERNAL_NOTES === 'true' };
  if (e.AI_ENDPOINT) {
    const endpoint = e.AI_ENDPOINT.replace(/\/+$/, '');
    const azure = /\.(openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$/i.test(new URL(endpoint).hostname);
    return { endpoint, apiKey: e.AI_API_KEY, model: e.AI_MODEL, auth: azure ? 'api-key' : 'bearer', ...common };
  }
  if (e.AZURE_OPENAI_ENDPOINT) {
    const base = e.AZURE_OPENAI_ENDPOINT.replace(/\/+$/, '');
    return { endpoint: base.endsWith('/openai/v1') ? base : `${base}/openai/v1`, apiKey: e.AZURE_OPENAI_API_KEY ?? e.AI_API_KEY, model: e.AZURE_OPENAI_DEPLOYMENT ?? e.AI_MODEL, auth: 'api-key', ...common };
  }
  return null;
}

/**
 * The hosts Teams sends activities from and takes replies at: the public cloud's
 * smba.trafficmanager.net (its regional paths, /amer/, /emea/, /apac/ …, share the origin) and the
 * GCC, GCC High and DoD clouds, as listed in "Proactive messages" on Microsoft Learn:
 * https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages
 */
export const TEAMS_SERVICE_ORIGINS: readonly string[] = [
  'https://smba.trafficmanager.net',
  'https://smba.infra.gcc.teams.microsoft.com',
  'https://smba.infra.gov.teams.microsoft.us',
  'https://smba.infra.dod.teams.microsoft.us',
];
/** Local mode talks to the Agents Playground or the Emulator on this machine. */
export const LOOPBACK_ORIGINS: readonly string[] = ['http://127.0.0.1:*', 'http://localhost:*', 'http://[::1]:*'];

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function parseDatabaseUrl(url: string | undefined): DatabaseConfig | string {
  if (!url) return { kind: 'sqlite', path: './data/service-desk.db' };
  if (url === ':memory:') return { kind: 'sqlite', path: ':memory:' };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '');
    return path ? { kind: 'sqlite', path } : 'DATABASE_URL: sqlite: needs a path, e.g. sqlite:./data/service-desk.db';
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  return 'DATABASE_URL: use sqlite:<path>, :memory: or postgres://user@host:5432/db';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
