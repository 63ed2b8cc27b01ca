// `node -r test/helpers/swc-register.js some.ts`: loads the TypeScript sources through swc as they
// are required, like `npx rollout` does (bin/rollout.js): no type check, about 1 ms a file. A worker
// process (with a prebuilt workflow bundle) is up in about 1 s this way, where ts-node's
// transpile-only mode took 2–3 s, and 2–4 s against 3.5–6 s with both cores busy.
'use strict';
const fs = require('node:fs');
const swc = require('@swc/core');

require.extensions['.ts'] = function (module, filename) {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
