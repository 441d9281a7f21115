import { adaptiveCard, literalText, type AdaptiveCard } from './adaptive-card.js';
import { field } from './fields.js';

export interface CrmCardData {
  email: string;
  found: boolean;
  contactName: string | null;
  companyName: string | null;
  domain: string | null;
  tierValue: string | null;
  tier: string;
  ownerId: string | null;
  lifecycleStage: string | null;
  openDeals: number | null;
  previousTickets: number;
  fetchedAt: number;
  fromCache: boolean;
}

/** `whois`: who a person is in the CRM, and what that means here (their tier, their tickets). */
export function crmCard(data: CrmCardData): AdaptiveCard {
  const title = data.found ? (data.contactName ?? data.email) : data.email;
  const body = [
    literalText({ text: title, weight: 'Bolder', size: 'Medium' }),
    ...(data.found
      ? [
          field('Email', data.email),
          field('Company', [data.companyName, data.domain].filter(Boolean).join(' · ') || 'none in the CRM'),
          field('Tier', `${data.tier}${data.tierValue ? ` (CRM: ${data.tierValue})` : ''}`),
          ...(data.ownerId ? [field('Owner', data.ownerId)] : []),
          ...(data.lifecycleStage ? [field('Stage', data.lifecycleStage)] : []),
          ...(data.openDeals !== null ? [field('Open deals', String(data.openDeals))] : []),
        ]
      : [literalText({ text: 'Not in HubSpot: tickets from this address get the default tier.', isSubtle: true })]),
    field('Tickets here', String(data.previousTickets)),
    literalText({ text: `${data.fromCache ? 'From the cache, fetched' : 'Fetched from HubSpot'} ${new Date(data.fetchedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`, isSubtle: true, size: 'Small' }),
  ];
  return adaptiveCard(`CRM: ${title}`, body, []);
}
