// Regenerates src/accounts/users/common-passwords.txt: the 10,000 most common passwords of at
// least 8 characters (shorter ones are refused by the length rule anyway), in rank order, from
// the frequency list that zxcvbn-ts ships. A dev dependency only: the app reads the text file.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dictionary } from '@zxcvbn-ts/language-common';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seen = new Set();
for (const password of dictionary['passwords-common']) {
  const lower = String(password).toLowerCase();
  if (lower.length >= 8) seen.add(lower);
  if (seen.size === 10_000) break;
}
const file = join(root, 'src', 'accounts', 'users', 'common-passwords.txt');
writeFileSync(file, [...seen].join('\n') + '\n');
process.stdout.write(`Wrote ${seen.size} passwords to ${file}\n`);
