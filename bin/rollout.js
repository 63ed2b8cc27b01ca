#!/usr/bin/env node
// `npx rollout …`: the operator CLI (src/cli/). The TypeScript sources run through ts-node
// (transpile only, no type check) so there is no build step; `npm run build` output is used
// only when ts-node is not installed.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
// `npx rollout list | head -1`: a closed pipe ends the command quietly.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(0);
    throw err;
  });
let main;
try {
  require('ts-node').register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') });
  main = require(path.join(root, 'src/cli/main.ts'));
} catch (err) {
  const built = path.join(root, 'dist/src/cli/main.js');
  if (err && err.code === 'MODULE_NOT_FOUND' && /ts-node/.test(String(err.message)) && fs.existsSync(built))
    main = require(built);
  else throw err;
}

main.run(process.argv).then(
  (code) => process.exit(code),
  (err) => {
    if (process.env.ROLLOUT_DEBUG) console.error(err);
    console.error(`rollout: ${err && err.message ? err.message : String(err)}`);
    process.exit(1);
  },
);
