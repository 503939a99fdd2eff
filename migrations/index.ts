import { AddAccounts1795675274152 } from './1795675274152-AddAccounts.js';
import { AddIndex1795676080911 } from './1795676080911-AddIndex.js';

/**
 * Core migrations in the order they run. Generate one with `npm run migration:generate -- Name`,
 * read it, and add it here.
 */
export const coreMigrations: Function[] = [AddAccounts1795675274152, AddIndex1795676080911];
