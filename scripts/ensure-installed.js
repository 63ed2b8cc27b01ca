// Runs before `npm test` and `npm start`: a fresh clone gets its npm packages and Temporal binaries.
'use strict';
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const lock = path.join(root, 'package-lock.json');
const stamp = path.join(root, 'node_modules', '.package-lock.json');
if (!fs.existsSync(stamp) || fs.statSync(stamp).mtimeMs < fs.statSync(lock).mtimeMs) {
  console.log('Installing npm packages (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}
const { ensure, BINARIES } = require('./temporal-binaries');
for (const kind of Object.keys(BINARIES)) {
  try {
    ensure(kind);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
