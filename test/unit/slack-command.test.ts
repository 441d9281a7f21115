import { describe, expect, it } from 'vitest';
import { parseSlashCommand } from '../../src/integrations/slack/slash-command.js';

describe('/ticket grammar', () => {
  it('reads each subcommand, with references written as people write them', () => {
    expect(parseSlashCommand('create  Printer on 3rd floor jammed ')).toEqual({ ok: true, command: { kind: 'create', text: 'Printer on 3rd floor jammed' } });
    expect(parseSlashCommand('show INC-42')).toEqual({ ok: true, command: { kind: 'show', ref: 42 } });
    expect(parseSlashCommand('Take #42')).toEqual({ ok: true, command: { kind: 'take', ref: 42 } });
    expect(parseSlashCommand('take inc 42')).toEqual({ ok: true, command: { kind: 'take', ref: 42 } });
    expect(parseSlashCommand('assign REQ-7 to Megan Bowen')).toEqual({ ok: true, command: { kind: 'assign', ref: 7, assignee: 'Megan Bowen' } });
    expect(parseSlashCommand('assign 7 megan@contoso.example')).toEqual({ ok: true, command: { kind: 'assign', ref: 7, assignee: 'megan@contoso.example' } });
    expect(parseSlashCommand('status INC-42 resolved fixed the VPN profile')).toEqual({ ok: true, command: { kind: 'status', ref: 42, to: 'resolved', note: 'fixed the VPN profile' } });
    expect(parseSlashCommand('status INC 42 on hold')).toEqual({ ok: true, command: { kind: 'status', ref: 42, to: 'on_hold', note: undefined } });
    expect(parseSlashCommand('status 42 on-hold')).toMatchObject({ ok: true, command: { to: 'on_hold' } });
    expect(parseSlashCommand('status 42 open')).toMatchObject({ ok: true, command: { to: 'open' } });
    expect(parseSlashCommand('status 42 closed')).toMatchObject({ ok: true, command: { to: 'closed' } });
    expect(parseSlashCommand('')).toEqual({ ok: true, command: { kind: 'help' } });
  });

  it('says what is missing or wrong, and gives the usage for what it does not know', () => {
    expect(parseSlashCommand('take')).toMatchObject({ ok: false, error: expect.stringContaining('Say which ticket') });
    expect(parseSlashCommand('assign INC-42')).toMatchObject({ ok: false, error: expect.stringContaining('Say who') });
    expect(parseSlashCommand('status INC-42')).toMatchObject({ ok: false, error: expect.stringContaining('Give the new status') });
    expect(parseSlashCommand('status resolved')).toMatchObject({ ok: false, error: expect.stringContaining('Say which ticket') });
    expect(parseSlashCommand('delete INC-42')).toMatchObject({ ok: false, error: expect.stringMatching(/^I don't know "delete"\. Usage:/) });
  });
});
