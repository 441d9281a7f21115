import { describe, expect, it } from 'vitest';
import { redact } from '../../src/domain/redaction.js';

/**
 * The redaction corpus: each line is something people really paste into tickets. What must go never
 * reaches the prompt; what must stay keeps the text useful to summarise.
 */

const MUST_GO: Array<{ text: string; secret: string; placeholder: string }> = [
  { text: 'Please reply to megan.bowen@contoso.com today', secret: 'megan.bowen@contoso.com', placeholder: '[email]' },
  { text: "cc o'neil+tickets@mail.example.co.uk", secret: "o'neil+tickets@mail.example.co.uk", placeholder: '[email]' },
  { text: 'Call me on +44 20 7946 0958 after lunch', secret: '7946 0958', placeholder: '[phone]' },
  { text: 'my mobile is (425) 555-0100', secret: '555-0100', placeholder: '[phone]' },
  { text: 'reach me at 0176.1234.5678', secret: '1234.5678', placeholder: '[phone]' },
  { text: 'phone +14255550100', secret: '+14255550100', placeholder: '[phone]' },
  { text: 'password: Hunter2!x', secret: 'Hunter2!x', placeholder: '[secret]' },
  { text: 'my pwd=s3cr3t-Value', secret: 's3cr3t-Value', placeholder: '[secret]' },
  { text: 'the password is Winter2026 and it expired', secret: 'Winter2026', placeholder: '[secret]' },
  { text: '{"client_secret": "Zx9~abcDEF.123"}', secret: 'Zx9~abcDEF.123', placeholder: '[secret]' },
  { text: 'api_key=AbCdEf123456', secret: 'AbCdEf123456', placeholder: '[secret]' },
  { text: 'Authorization: Bearer abc.def-ghi_jkl~mno', secret: 'abc.def-ghi_jkl~mno', placeholder: '[secret]' },
  { text: 'token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', secret: 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', placeholder: '[secret]' },
  { text: 'slack xoxb-1234567890-abcdefghij', secret: 'xoxb-1234567890-abcdefghij', placeholder: '[secret]' },
  { text: 'key sk-proj-abcdefghijklmnopqrstuv', secret: 'sk-proj-abcdefghijklmnopqrstuv', placeholder: '[secret]' },
  { text: 'aws AKIAIOSFODNN7EXAMPLE leaked', secret: 'AKIAIOSFODNN7EXAMPLE', placeholder: '[secret]' },
  { text: 'DATABASE_URL=postgres://app:Sup3rS3cret@db.internal:5432/desk', secret: 'Sup3rS3cret', placeholder: '[secret]' },
  {
    text: 'DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=q1w2e3r4t5y6u7i8o9p0==;EndpointSuffix=core.windows.net',
    secret: 'q1w2e3r4t5y6u7i8o9p0==',
    placeholder: '[secret]',
  },
  { text: 'Server=sql1;Database=hr;User Id=sa;Password=P@ssw0rd;', secret: 'P@ssw0rd', placeholder: '[secret]' },
  {
    text: 'the id token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk works',
    secret: 'eyJzdWIiOiIxMjM0NTY3ODkwIn0',
    placeholder: '[secret]',
  },
  { text: 'card 4111 1111 1111 1111 was charged twice', secret: '4111 1111 1111 1111', placeholder: '[card number]' },
  { text: 'card 5500-0000-0000-0004', secret: '5500-0000-0000-0004', placeholder: '[card number]' },
  { text: 'hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', secret: '9f86d081884c7d659a2feaa0c55ad015', placeholder: '[secret]' },
  {
    text: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----',
    secret: 'MIIEowIBAAKCAQEA7',
    placeholder: '[secret]',
  },
];

const MUST_STAY = [
  'VPN drops every 10 minutes since the update on 2026-11-23',
  'INC-1042 is a duplicate of REQ-1043',
  'Outlook 16.0.17928 crashes at 09:30 when opening the calendar',
  'Printer on floor 3, room 3.14, shows error 0x80070005',
  'Order 12345 was not delivered',
  'The password reset page says my account is locked',
];

describe('redaction', () => {
  for (const { text, secret, placeholder } of MUST_GO) {
    it(`removes ${placeholder} from “${text.slice(0, 40)}…”`, () => {
      const { text: out, counts } = redact(text);
      expect(out).not.toContain(secret);
      expect(out).toContain(placeholder);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    });
  }

  for (const text of MUST_STAY) {
    it(`keeps “${text}”`, () => {
      expect(redact(text).text).toBe(text);
    });
  }

  it('leaves a card-shaped number that fails the Luhn check (an order or serial number)', () => {
    expect(redact('serial 4111 1111 1111 1112').text).not.toContain('[card number]');
  });

  it('counts each kind and keeps the words around them', () => {
    const out = redact('From megan@contoso.com (+1 425 555 0100): password=abc12345, cc adele@contoso.com');
    expect(out.counts).toMatchObject({ email: 2, phone: 1, secret: 1 });
    expect(out.text).toBe('From [email] ([phone]): password=[secret], cc [email]');
  });
});
