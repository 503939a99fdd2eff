import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

/**
 * Real wheels published by other projects, in `../shared/fixtures/dists` beside the checkout
 * (CI lays `shared/` there). A clone without it skips these tests with the reason printed;
 * with LARDER_REQUIRE_CLIENTS=1 (CI) a missing folder fails instead.
 */
export const sharedDists = join(packageRoot, '..', 'shared', 'fixtures', 'dists');

const missing = existsSync(sharedDists) ? null : `${sharedDists} is missing`;
if (missing && process.env.LARDER_REQUIRE_CLIENTS === '1') {
  throw new Error(`LARDER_REQUIRE_CLIENTS=1 but ${missing}`);
}

/** `it` for a test that reads the real wheels. */
export function itWithSharedDists(name: string, fn: () => Promise<void>, timeout?: number): void {
  if (missing) {
    console.warn(`skipped "${name}": ${missing}`);
    it.skip(name, fn);
    return;
  }
  it(name, fn, timeout);
}
