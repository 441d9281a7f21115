import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERBS } from '../../src/cards/actions.js';
import { SEARCH_COMMAND_ID } from '../../src/teams/handlers/message-search.js';
import { adele, alex, channelMessage, megan, personalConversationId, somebody, TENANT_ID, type Person } from '../support/activities.js';
import { schemaErrors } from '../support/card-schema.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * The compose box's ticket search (issue 16, item 2) through the real endpoint with auth on:
 * `composeExtension/query` invokes shaped like the Teams SDK's fixture, answered with result lists whose
 * picked card is the requester view.
 */

const fixture = JSON.parse(readFileSync(new URL('../fixtures/teams-activities/invoke-composeExtension-query.json', import.meta.url), 'utf8'));

type Where = { kind: 'personal' } | { kind: 'groupChat'; id: string };

interface SearchOptions {
  from?: Person;
  skip?: unknown;
  count?: unknown;
  initialRun?: boolean;
  where?: Where;
  parameters?: unknown;
}

describe('ticket search in the compose box (composeExtension/query)', () => {
  let h: Harness;
  const ids: Record<string, number> = {};
  const zoe = somebody('Zoë Henrietta');
  const paging = somebody('Pat Paging');

  /** The fixture with our bot, sender, conversation and query; Teams' other fields as it had them. */
  function query(text: string, options: SearchOptions = {}) {
    const from = options.from ?? megan;
    const where = options.where ?? { kind: 'personal' };
    return {
      ...fixture,
      id: `f:${randomUUID()}`,
      serviceUrl: h.serviceUrl,
      recipient: { id: `28:${h.botAppId}`, name: 'Service Desk' },
      from: { id: from.id, name: from.name, aadObjectId: from.aadObjectId },
      conversation: where.kind === 'personal' ? { id: personalConversationId(from), conversationType: 'personal', tenantId: TENANT_ID } : { id: where.id, conversationType: 'groupChat', isGroup: true, tenantId: TENANT_ID },
      channelData: { tenant: { id: TENANT_ID }, source: { name: 'compose' } },
      value: {
        commandId: SEARCH_COMMAND_ID,
        parameters: options.parameters ?? [options.initialRun ? { name: 'initialRun', value: 'true' } : { name: 'searchQuery', value: text }],
        queryOptions: { skip: options.skip ?? 0, count: options.count ?? 25 },
      },
    };
  }

  async function search(text: string, options: SearchOptions = {}) {
    const response = await h.post(query(text, options));
    expect(response.status, text).toBe(200);
    const result = response.body.composeExtension;
    return result as { type: string; text?: string; attachmentLayout?: string; attachments: Array<{ contentType: string; content: any; preview: { contentType: string; content: { title: string; subtitle: string } } }> };
  }

  const refsOf = (result: Awaited<ReturnType<typeof search>>) => result.attachments.map((a) => Number(/^(?:INC|REQ)-(\d+)/.exec(a.preview.content.title)![1]));

  async function open(person: Person, subject: string): Promise<number> {
    const reply = await h.say(person, `new ${subject}`);
    return Number(/INC-(\d+)/.exec(JSON.stringify(reply.activity))![1]);
  }

  beforeAll(async () => {
    h = await startHarness({ env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId } });
    await h.install(alex, megan, adele, zoe, paging);
    ids.alexPrinter = await open(alex, 'Printer jams on the third floor');
    ids.alexVpn = await open(alex, 'VPN drops every hour');
    ids.zoePrinter = await open(zoe, 'Printer toner empty in Paris');
    ids.zoeBadge = await open(zoe, 'Badge reader does not open the door');
    for (let n = 0; n < 30; n++) await open(paging, `Quarterly report export ${n}`);
  });
  afterAll(() => h.stop());

  it('is the search command the app package declares, opening with a first run', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../appPackage/manifest.json', import.meta.url), 'utf8'));
    const command = manifest.composeExtensions[0].commands.find((c: { id: string }) => c.id === SEARCH_COMMAND_ID);
    expect(manifest.composeExtensions[0].botId).toBe('${{BOT_ID}}');
    expect(command).toMatchObject({ type: 'query', initialRun: true, parameters: [{ name: 'searchQuery' }] });
  });

  it('finds a ticket by reference (INC-n, #n, n), that ticket first', async () => {
    for (const text of [`INC-${ids.zoeBadge}`, `#${ids.zoeBadge}`, `${ids.zoeBadge}`, `inc ${ids.zoeBadge}`]) {
      const result = await search(text);
      expect(result.type).toBe('result');
      expect(refsOf(result)[0], text).toBe(ids.zoeBadge);
    }
  });

  it('finds tickets by words of the subject, as typed so far, and by requester name', async () => {
    expect(refsOf(await search('printer')).sort()).toEqual([ids.alexPrinter, ids.zoePrinter].sort());
    expect(refsOf(await search('prin'))).toEqual(expect.arrayContaining([ids.alexPrinter, ids.zoePrinter]));
    expect(refsOf(await search('printer paris'))).toEqual([ids.zoePrinter]);
    expect(refsOf(await search('vpn hour'))).toEqual([ids.alexVpn]);
    expect(refsOf(await search('henrietta')).sort()).toEqual([ids.zoePrinter, ids.zoeBadge].sort());
    expect(refsOf(await search('Alex Wilber printer'))).toEqual([ids.alexPrinter]);
    expect((await search('nothing-like-this-anywhere')).attachments).toEqual([]);
  });

  it('finds tickets by status, most recently updated first', async () => {
    expect((await h.say(megan, `resolve INC-${ids.alexVpn} rebooted the concentrator`)).activity).toBeDefined();
    const resolved = refsOf(await search('resolved'));
    expect(resolved).toContain(ids.alexVpn);
    expect(resolved).not.toContain(ids.alexPrinter);
    const open = refsOf(await search('open', { count: 25 }));
    expect(open).not.toContain(ids.alexVpn);
    expect(open[0]).toBeGreaterThan(open[open.length - 1]!);
    expect(refsOf(await search('new', { from: alex }))).toEqual([ids.alexPrinter]);
  });

  it('pages with skip and count, at most 25 a page, without repeats', async () => {
    const first = refsOf(await search('quarterly', { skip: 0, count: 25 }));
    const second = refsOf(await search('quarterly', { skip: 25, count: 25 }));
    expect(first).toHaveLength(25);
    expect(second).toHaveLength(5);
    expect(new Set([...first, ...second]).size).toBe(30);
    expect(refsOf(await search('quarterly', { skip: 0, count: 10 }))).toEqual(first.slice(0, 10));
    expect(refsOf(await search('quarterly', { skip: 0, count: 500 }))).toHaveLength(25);
    // The ticket a reference names is the first of the list, and only there: page two does not repeat it.
    const named = first[7]!;
    expect(refsOf(await search(`${named}`, { count: 1 }))).toEqual([named]);
    expect(refsOf(await search(`${named}`, { skip: 1, count: 1 }))).toEqual([]);
  });

  it('shows a requester only their own tickets', async () => {
    expect(refsOf(await search('printer', { from: alex }))).toEqual([ids.alexPrinter]);
    expect(refsOf(await search(`INC-${ids.zoeBadge}`, { from: alex }))).toEqual([]);
    expect(refsOf(await search('henrietta', { from: alex }))).toEqual([]);
    expect(refsOf(await search('badge', { from: zoe }))).toEqual([ids.zoeBadge]);
  });

  it("keeps an agent of one support team out of another team's tickets", async () => {
    const teams = { red: { team: '19:team-red-search@thread.tacv2', channel: '19:red-search@thread.tacv2' }, blue: { team: '19:team-blue-search@thread.tacv2', channel: '19:blue-search@thread.tacv2' } };
    const inTeam = (which: keyof typeof teams, from: Person, text: string) => {
      const { team, channel } = teams[which];
      const message = channelMessage(h, text, { from, channel });
      return { ...message, channelData: { ...message.channelData, teamsChannelId: channel, teamsTeamId: team, channel: { id: channel }, team: { id: team, name: which } } };
    };
    const red = somebody('Red Agent');
    const blue = somebody('Blue Agent');
    for (const [which, member] of [['red', red], ['blue', blue]] as const) {
      h.connector.members.clear();
      h.connector.members.set(member.id, { id: member.id, name: member.name, aadObjectId: member.aadObjectId, email: `${member.aadObjectId}@contoso.com`, userPrincipalName: `${member.aadObjectId}@contoso.com`, tenantId: TENANT_ID });
      const setup = inTeam(which, adele, 'setup support team');
      expect((await h.post(setup)).status).toBe(200);
      expect(JSON.stringify((await h.connector.waitFor((c) => c.activityId === setup.id))[0]!.activity)).toContain('is now a support team');
    }
    await h.install(red, blue);
    const created = inTeam('red', red, 'new Red router drops packets');
    expect((await h.post(created)).status).toBe(200);
    const id = Number(/INC-(\d+)/.exec(JSON.stringify((await h.connector.waitFor((c) => c.activityId === created.id))[0]!.activity))![1]);

    expect(refsOf(await search('router', { from: red }))).toEqual([id]);
    expect(refsOf(await search('router', { from: megan }))).toEqual([id]);
    expect(refsOf(await search('router', { from: blue }))).toEqual([]);
    expect(refsOf(await search(`INC-${id}`, { from: blue }))).not.toContain(id);
    // Tickets of no support team stay in every agent's search.
    expect(refsOf(await search('printer', { from: blue })).sort()).toEqual([ids.alexPrinter, ids.zoePrinter].sort());
  });

  it('inserts the requester view: no internal notes and no agent buttons, even for an agent', async () => {
    const secret = `firmware 1.2 quirk ${randomUUID().slice(0, 8)}, do not tell the customer`;
    await h.say(megan, `note INC-${ids.alexPrinter} ${secret}`);
    // The agent's own card in their chat does show the note: the search leaves it out on purpose.
    expect(JSON.stringify((await h.say(megan, `show INC-${ids.alexPrinter}`)).activity)).toContain(secret);

    for (const where of [{ kind: 'personal' }, { kind: 'groupChat', id: `19:group-${randomUUID()}@thread.v2` }] as const) {
      const result = await search(`INC-${ids.alexPrinter}`, { where });
      const picked = result.attachments[0]!;
      expect(picked.contentType).toBe('application/vnd.microsoft.card.adaptive');
      const card = JSON.stringify(picked.content);
      expect(card).toContain(`INC-${ids.alexPrinter}`);
      expect(card).toContain('Printer jams on the third floor');
      expect(card).not.toContain(secret);
      for (const verb of [VERBS.take, VERBS.assign, VERBS.priority, VERBS.note, VERBS.status]) expect(card, verb).not.toContain(`"${verb}"`);
      expect(schemaErrors(picked.content)).toEqual([]);
      expect(picked.preview.contentType).toBe('application/vnd.microsoft.card.thumbnail');
      expect(picked.preview.content.title).toBe(`INC-${ids.alexPrinter} · Printer jams on the third floor`);
      expect(picked.preview.content.subtitle).toContain('Alex Wilber');
    }
  });

  it('answers hostile and malformed queries with results or an empty list, never an error', async () => {
    const hostile = ['"', '"printer', '*', 'print*', '-printer', 'NOT printer', 'printer OR vpn', 'NEAR(printer toner)', 'subject:printer', '{subject}: printer', 'requester_key : r1', '^printer', '(printer', ':* & !', "'); drop table tickets; --", '\u0000', '🔥', 'x'.repeat(5_000)];
    for (const text of hostile) {
      const result = await search(text);
      expect(result.type, text).toBe('result');
      expect(Array.isArray(result.attachments), text).toBe(true);
    }
    expect(refsOf(await search('"printer" toner*'))).toEqual([ids.zoePrinter]);
    for (const options of [{ skip: 'abc', count: -5 }, { skip: -1, count: 'many' }, { skip: 1e12, count: 1e12 }, { parameters: [{ name: 'searchQuery', value: { $ne: 1 } }] }, { parameters: [{ name: 7 }, { value: 'x' }] }]) {
      const response = await h.post(query('printer', options as SearchOptions));
      expect(response.status, JSON.stringify(options)).toBe(200);
      expect(response.body.composeExtension.type).toBe('result');
    }
    // Parameters that are not a list at all: a 400 that says so.
    for (const parameters of ['nope', [null, 7]]) {
      const unreadable = await h.post(query('printer', { parameters }));
      expect(unreadable.status).toBe(400);
      expect(unreadable.body.composeExtension.text).toMatch(/parameters must be a list/);
    }
    expect(h.logs.lines.filter((l) => l.msg === 'ticket search failed')).toEqual([]);
    // The desk still answers, and still has every ticket.
    expect(refsOf(await search('printer')).sort()).toEqual([ids.alexPrinter, ids.zoePrinter].sort());
  });

  it("lists the caller's recent tickets when the command opens (initialRun)", async () => {
    expect(refsOf(await search('', { from: zoe, initialRun: true }))).toEqual([ids.zoeBadge, ids.zoePrinter]);
    // An agent: the open tickets assigned to them, most recently updated first.
    await h.say(megan, `take INC-${ids.zoePrinter}`);
    await h.say(megan, `take INC-${ids.alexPrinter}`);
    expect(refsOf(await search('', { from: megan, initialRun: true }))).toEqual([ids.alexPrinter, ids.zoePrinter]);
  });
});
