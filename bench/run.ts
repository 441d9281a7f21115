import { benchAttachments, reportAttachments } from './attachments.js';
import { benchAssistant, reportAssistant } from './assistant.js';
import { benchFanOut, reportFanOut } from './fanout.js';
import { benchFreeText, reportFreeText } from './free-text.js';
import { benchMail, reportMail } from './mail.js';
import { benchBounceDetection, reportBounceDetection } from './mail-bounces.js';
import { benchIntakeMemory, reportIntakeMemory } from './mail-intake-memory.js';
import { benchMailQuality, reportMailQuality } from './mail-quality.js';
import { benchMemory, reportMemory } from './memory.js';
import { benchNotify, reportNotify } from './notify.js';
import { benchCrm, reportCrm } from './crm.js';
import { benchReplicas, reportReplicas } from './replicas.js';
import { benchSearch, reportSearch } from './search.js';
import { benchSweep, reportSweep } from './sla.js';
import { benchTickets, reportTickets } from './tickets.js';
import { benchTurns, reportTurns } from './turns.js';

/**
 * `npm run bench [-- <name>]`: each benchmark prints what it measured next to a baseline measured in the
 * same run, as a ratio; absolute numbers on a shared machine mean little.
 */
const only = process.argv[2];
const benches: Record<string, () => Promise<string>> = {
  turns: async () => reportTurns(await benchTurns({ durationMs: 4_000, concurrency: 16, rounds: 3 })),
  // A requester's free text (deterministic reading) against `help`, on the same desk.
  'free-text': async () => reportFreeText(await benchFreeText({ durationMs: 4_000, concurrency: 16, rounds: 3 })),
  tickets: async () => reportTickets(await benchTickets({ tickets: 100_000, durationMs: 3_000, concurrency: 16, agents: 20, rounds: 3 })),
  sweep: async () => reportSweep(await benchSweep({ open: 100_000, due: 1_000, rounds: 5 })),
  fanout: async () => reportFanOut(await benchFanOut({ cards: 2_000, conversations: 100 })),
  mail: async () => reportMail(await benchMail({ messages: 5_000, latencyMessages: 1_000 })),
  // Reading mail right: the new part of replies, and bounces and automatic replies told from people.
  'mail-quality': async () => `${reportMailQuality(benchMailQuality())}\n\n${reportBounceDetection(await benchBounceDetection({ rounds: 3 }))}`,
  crm: async () => reportCrm(await benchCrm({ requesters: 1_000, baselineMaxMs: 30_000 })),
  memory: async () => reportMemory(await benchMemory({ tickets: 100_000, minutes: 60, hour: { agents: 20, turnsPerAgentMinute: 3, chatPerMinute: 2, emailPerMinute: 3, slaTickets: 2_000 } })),
  'mail-memory': async () => reportIntakeMemory(await benchIntakeMemory()),
  search: async () => reportSearch(await benchSearch({ tickets: 100_000, durationMs: 3_000, concurrency: 4, rounds: 3 })),
  // Ticket events to 3 webhooks, PagerDuty and Slack: each once, within their limits, and the recording's CPU.
  notify: async () => reportNotify(await benchNotify({ tickets: 200, rounds: 3 })),
  // Upload and download through each attachment store against a local disk copy, and RSS for 200 MB.
  attachments: async () => reportAttachments(await benchAttachments({ fileMb: 64, rounds: 3, rssMb: 200 })),
  // The AI assistant's endpoint taking 10 s: every turn still answers within Teams' 5 s, without it.
  assistant: async () => reportAssistant(await benchAssistant({ durationMs: 15_000, concurrency: 8, endpointDelayMs: 10_000 })),
  replicas: async () => reportReplicas(await benchReplicas({ durationMs: 5_000, concurrency: 16, cards: 2_000, conversations: 100 })),
};

if (only && !benches[only]) {
  process.stderr.write(`no benchmark "${only}"; the benchmarks are: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  process.stdout.write(`\n## ${name}\n`);
  process.stdout.write(`${await run()}\n`);
}
