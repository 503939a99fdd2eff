// `npm start`: build if dist/ is missing or stale, then run the server.
import { ensureBuild } from './ensure-build.mjs';

ensureBuild();
await import('../dist/src/main.js');
