import { adaptiveCard, type AdaptiveCard } from './adaptive-card.js';

export interface CommandHelp {
  /** As the user types it, e.g. `help`. */
  usage: string;
  description: string;
}

/** The commands a caller may use, as a card. The caller's role decides which commands are passed in. */
export function helpCard(commands: readonly CommandHelp[], where: 'personal' | 'channel' | 'groupChat'): AdaptiveCard {
  const howTo =
    where === 'personal'
      ? 'Type a command here.'
      : 'Mention me first, for example **@Service Desk help**.';
  return adaptiveCard(
    `Service Desk commands: ${commands.map((c) => c.usage).join(', ')}`,
    [
      { type: 'TextBlock', text: 'What I can do', weight: 'Bolder', size: 'Medium', wrap: true },
      { type: 'TextBlock', text: howTo, wrap: true, isSubtle: true, spacing: 'None' },
      {
        type: 'FactSet',
        facts: commands.map((c) => ({ title: c.usage, value: c.description })),
      },
    ],
  );
}
