#!/usr/bin/env node
// The `larder` command: build if dist/ is missing or stale, then run the CLI.
import { ensureBuild } from '../scripts/ensure-build.mjs';

ensureBuild();
await import('../dist/src/cli.js');
