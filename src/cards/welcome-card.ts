import { adaptiveCard, literalText, type AdaptiveCard } from './adaptive-card.js';

/** First words in a new personal chat. */
export function personalWelcomeCard(firstName: string | undefined): AdaptiveCard {
  const greeting = firstName
    ? literalText({ text: 'Hi ', weight: 'Bolder', size: 'Medium' }, { text: firstName, weight: 'Bolder', size: 'Medium' }, { text: ", I'm the Service Desk bot.", weight: 'Bolder', size: 'Medium' })
    : literalText({ text: "Hi, I'm the Service Desk bot.", weight: 'Bolder', size: 'Medium' });
  return adaptiveCard(`Hi${firstName ? ` ${firstName}` : ''}, I'm the Service Desk bot. Type help to see what I can do.`, [
    greeting,
    {
      type: 'TextBlock',
      text: 'I keep track of support tickets: what is open, who has it, and what is about to miss its deadline. Type **help** to see what I can do.',
      wrap: true,
    },
  ]);
}

/** First words in a team the bot was just added to. */
export function teamWelcomeCard(teamName: string | undefined): AdaptiveCard {
  const heading = teamName
    ? literalText({ text: 'Thanks for adding me to ', weight: 'Bolder', size: 'Medium' }, { text: teamName, weight: 'Bolder', size: 'Medium' }, { text: '.', weight: 'Bolder', size: 'Medium' })
    : literalText({ text: 'Thanks for adding me to this team.', weight: 'Bolder', size: 'Medium' });
  return adaptiveCard(`Thanks for adding Service Desk${teamName ? ` to ${teamName}` : ''}. Mention me with help to see what I can do.`, [
    heading,
    {
      type: 'TextBlock',
      text: 'I post ticket cards here and keep them up to date. Mention me with **help** to see what I can do.',
      wrap: true,
    },
  ]);
}
