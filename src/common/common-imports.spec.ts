import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The edge every feature shares must not depend on features: errors declare their kind instead. */
describe('src/common', () => {
  it('imports no feature module (only itself and config)', () => {
    const dir = join(process.cwd(), 'src', 'common');
    const offending = readdirSync(dir)
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
      .flatMap((file) => [...readFileSync(join(dir, file), 'utf8').matchAll(/from '(\.\.\/[^']+)'/g)].map((m) => `${file}: ${m[1]}`))
      .filter((entry) => !entry.includes('../config/'));
    expect(offending).toEqual([]);
  });
});
