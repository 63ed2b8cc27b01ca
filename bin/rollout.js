#!/usr/bin/env node
// `npx rollout …`: the operator CLI (src/cli/). The TypeScript sources are transpiled file by file
// with swc as they load (no type check, no build step): ~0.5 s to a first answer, where ts-node
// took 2–4 s. `npm run build` output is used only when @swc/core cannot load (a platform without
// its native binary).
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

/** Loads `.ts` files through swc (the project's sources are `isolatedModules`-safe). */
function registerSwc() {
  const swc = require('@swc/core');
  const options = (filename) => ({
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  require.extensions['.ts'] = function (module, filename) {
    module._compile(swc.transformSync(fs.readFileSync(filename, 'utf8'), options(filename)).code, filename);
  };
}

// ROLLOUT_CLI_LOADER: `swc` (default), `ts-node` (slower, the loader before swc) or `built`
// (dist/ from `npm run build`); bench/cli-start.ts compares them.
const built = path.join(root, 'dist/src/cli/main.js');
const loader = process.env.ROLLOUT_CLI_LOADER || 'swc';
let main;
let src = path.join(root, 'src');
if (loader === 'built') main = require(built);
else if (loader === 'ts-node') {
  require('ts-node').register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') });
  main = require(path.join(root, 'src/cli/main.ts'));
} else
  try {
    registerSwc();
    main = require(path.join(root, 'src/cli/main.ts'));
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && /@swc\/core/.test(String(err.message)) && fs.existsSync(built))
      main = require(built);
    else throw err;
  }
if (main === require.cache[built]?.exports) src = path.join(root, 'dist/src');

// The rollout page's verb comes from ui/: cli/ and ui/ do not import each other, this file joins them.
const extra = { ui: () => require(path.join(src, 'ui/verb')).register };
main.run(process.argv, extra).then(
  (code) => process.exit(code),
  (err) => {
    if (process.env.ROLLOUT_DEBUG) console.error(err);
    console.error(`rollout: ${err && err.message ? err.message : String(err)}`);
    process.exit(1);
  },
);
