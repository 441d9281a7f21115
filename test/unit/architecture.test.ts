import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The dependency rules of the design, checked against the source tree: cards are pure views, the domain
// is pure rules, and the Bot Framework SDKs (in maintenance upstream) stay in one folder so that moving
// to the Teams SDK v2 touches only that folder.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Bot Framework / Teams AI v1 packages, with or without a subpath. */
const BOT_SDK = /^(botbuilder(-[\w.-]+)?|botframework-[\w.-]+|@microsoft\/teams-ai)(\/.*)?$/;

const RULES = {
  cards: 'cards are pure views and import only src/cards and src/domain; give the card a view model and let the service map its data to it',
  domain: 'src/domain imports nothing of ours from outside src/domain; move the type or rule into src/domain',
  botSdk: 'botbuilder, botframework-* and @microsoft/teams-ai are imported only in src/teams/',
} as const;

interface Offence {
  /** Where, and what: "src/cards/x.ts:2 imports '../services/y.js'". */
  at: string;
  rule: (typeof RULES)[keyof typeof RULES];
}

/**
 * Every module a file names: static and type-only imports, re-exports, `import()` and `require`, as
 * TypeScript's own pre-processor finds them (it skips comments and strings).
 */
function importsOf(text: string): Array<{ specifier: string; line: number }> {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => ({ specifier: f.fileName, line: text.slice(0, f.pos).split('\n').length }));
}

const inside = (file: string, ...folders: string[]) => folders.some((folder) => file.startsWith(`${folder}/`));

/** The imports of one file (a path from the repository root, with `/`) that break a rule. */
function offences(file: string, text: string): Offence[] {
  const found: Offence[] = [];
  for (const { specifier, line } of importsOf(text)) {
    const at = `${file}:${line} imports '${specifier}'`;
    // Relative imports are ours; the project has no path aliases.
    const target = specifier.startsWith('.') ? path.posix.join(path.posix.dirname(file), specifier) : undefined;
    if (inside(file, 'src/cards') && target !== undefined && !inside(target, 'src/cards', 'src/domain')) found.push({ at, rule: RULES.cards });
    if (inside(file, 'src/domain') && target !== undefined && !inside(target, 'src/domain')) found.push({ at, rule: RULES.domain });
    if (!inside(file, 'src/teams') && BOT_SDK.test(specifier)) found.push({ at, rule: RULES.botSdk });
  }
  return found;
}

function sourceFiles(folder: string): string[] {
  return (readdirSync(path.join(ROOT, folder), { recursive: true }) as string[])
    .filter((name) => /\.[cm]?[jt]sx?$/.test(name) && !name.endsWith('.d.ts'))
    .map((name) => path.posix.join(folder, name.split(path.sep).join('/')))
    .sort();
}

const tree = sourceFiles('src').map((file) => ({ file, text: readFileSync(path.join(ROOT, file), 'utf8') }));
const treeOffences = tree.flatMap(({ file, text }) => offences(file, text));
/** The tree's offences against one rule, as the messages a failing test prints. */
const broken = (rule: Offence['rule']) => treeOffences.filter((o) => o.rule === rule).map((o) => `${o.at}: ${o.rule}`);

describe('architecture', () => {
  it('sees the imports it checks (a scanner that found none would pass every rule)', () => {
    const ticketCard = tree.find((f) => f.file === 'src/cards/ticket-card.ts');
    expect(ticketCard && importsOf(ticketCard.text).map((i) => i.specifier)).toContain('../domain/tickets.js');
    expect(tree.filter((f) => inside(f.file, 'src/teams')).some((f) => importsOf(f.text).some((i) => BOT_SDK.test(i.specifier)))).toBe(true);
  });

  it('cards import only src/cards and src/domain: never src/services or src/store, not even a type', () => {
    expect(broken(RULES.cards)).toEqual([]);
  });

  it('src/domain imports nothing of ours from outside src/domain', () => {
    expect(broken(RULES.domain)).toEqual([]);
  });

  it('only src/teams imports botbuilder, botframework-* or @microsoft/teams-ai', () => {
    expect(broken(RULES.botSdk)).toEqual([]);
  });

  it('names the file, the line and the import of each offence', () => {
    const found = [
      offences('src/cards/report-card.ts', "import { x } from './charts.js';\nimport type { ReportData } from '../services/reports.js';"),
      offences('src/cards/reminder-card.ts', "export type { Reminder } from '../store/reminders.js';"),
      offences('src/domain/mail/threading.ts', "import { parseReference } from '../ticket-reference.js';\nimport { Db } from '../../store/database.js';"),
      offences('src/services/health.ts', "const { CloudAdapter } = await import('botbuilder');"),
      offences('src/http/server.ts', "import type { TurnContext } from '@microsoft/teams-ai/lib/x.js';\nimport { y } from 'botframework-connector';"),
      offences('src/teams/bot.ts', "import { Application } from '@microsoft/teams-ai';"),
    ].map((list) => list.map((o) => o.at));
    expect(found).toEqual([
      ["src/cards/report-card.ts:2 imports '../services/reports.js'"],
      ["src/cards/reminder-card.ts:1 imports '../store/reminders.js'"],
      ["src/domain/mail/threading.ts:2 imports '../../store/database.js'"],
      ["src/services/health.ts:1 imports 'botbuilder'"],
      ["src/http/server.ts:1 imports '@microsoft/teams-ai/lib/x.js'", "src/http/server.ts:2 imports 'botframework-connector'"],
      [],
    ]);
  });
});
