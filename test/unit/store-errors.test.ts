import { describe, expect, it } from 'vitest';
import { isStoreUnavailable } from '../../src/store/database.js';

describe('telling a database that is unavailable from a statement that is wrong', () => {
  it('counts busy, locked, lost connections and serialization conflicts as unavailable', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_IOERR_WRITE', '08006', '40001', '40P01', '53300', '57P01', 'ECONNRESET']) {
      expect({ code, unavailable: isStoreUnavailable(Object.assign(new Error('x'), { code })) }).toEqual({ code, unavailable: true });
    }
  });

  it('blames the statement for constraint, syntax and type errors, and anything without a code', () => {
    for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', '23505', '42601', '22P02']) {
      expect({ code, unavailable: isStoreUnavailable(Object.assign(new Error('x'), { code })) }).toEqual({ code, unavailable: false });
    }
    expect(isStoreUnavailable(new Error('parse failed'))).toBe(false);
    expect(isStoreUnavailable(undefined)).toBe(false);
  });
});
