import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_DOCS } from '../../src/config.js';

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('documents every environment variable the service reads', () => {
    for (const { name } of ENV_DOCS) {
      for (const variable of name.split(',').map((n) => n.trim())) expect(readme).toContain(`\`${variable}\``);
    }
  });

  it('shows the install, start and test commands', () => {
    expect(readme).toContain('npm install');
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
  });
});
