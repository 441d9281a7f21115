import { describe, expect, it } from 'vitest';
import { isHelpRequest, normalizeCommandText } from '../../src/domain/command-text.js';
import { formatReference, parseReference } from '../../src/domain/ticket-reference.js';

describe('command text', () => {
  it.each([
    ['assign 42 to <at>Megan Bowen</at>', 'assign 42 to @Megan Bowen'],
    ['<p>help&nbsp;</p>', 'help'],
    ['  take   INC-42  ', 'take INC-42'],
    ['note 42 R&amp;D &lt;urgent&gt;', 'note 42 R&D <urgent>'],
    // An escaped entity is decoded once: someone who typed "&lt;" sees "&lt;", not "<".
    ['note 42 write &amp;lt;br&amp;gt; in HTML', 'note 42 write &lt;br&gt; in HTML'],
    ['note 42 caf&eacute; &#x1F600; &#39;ok&#39;', "note 42 café 😀 'ok'"],
  ])('normalizes %j to %j', (raw, expected) => {
    expect(normalizeCommandText(raw)).toBe(expected);
  });

  it('recognizes the ways people ask for help, and nothing that merely contains the word', () => {
    for (const text of ['help', 'Help!', 'HELP.', '?', 'help ?']) expect(isHelpRequest(text)).toBe(true);
    for (const text of ['helpful', 'help me with INC-4', 'no help']) expect(isHelpRequest(text)).toBe(false);
  });
});

describe('ticket references', () => {
  it('formats by type', () => {
    expect(formatReference('incident', 1042)).toBe('INC-1042');
    expect(formatReference('request', 1043)).toBe('REQ-1043');
  });
  it.each(['INC-42', 'inc42', 'Inc 42', 'REQ-42', '#42', '42', ' 42 '])('reads %j as ticket 42', (text) => {
    expect(parseReference(text)).toBe(42);
  });
  it.each(['INC-', 'ABC-42', '4 2', '-42', '0', 'INC-1.5'])('rejects %j', (text) => {
    expect(parseReference(text)).toBeUndefined();
  });
});
