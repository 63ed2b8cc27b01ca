// @ts-check
const tseslint = require('typescript-eslint');

/**
 * The layers of src/, lowest first (docs/architecture.md): a file may import from its own layer
 * and the ones before it, never from a later one, and folders that share a layer do not import
 * each other. `npm run lint` also looks for import circles in src/ (madge; type-only imports
 * count), and `npm test` runs lint first, so a violation fails CI.
 */
const LAYERS = [
  { name: 'plan', folders: ['plan', 'probes'] },
  { name: 'judge', folders: ['judge'] },
  { name: 'contracts', folders: ['contracts'] },
  // Workflow code runs in Temporal's sandbox: no providers (I/O) there; simulations are pure too.
  { name: 'workflows / providers / simulate', folders: ['workflows', 'providers', 'simulate'], apart: true },
  { name: 'activities', folders: ['activities'] },
  { name: 'client', folders: ['client'] },
  // cli/ prints, ui/ serves: bin/rollout.js joins them. The worker's files are its composition root.
  { name: 'cli / ui / worker', folders: ['cli', 'ui'], files: ['worker', 'worker-metrics', 'worker-version', 'workflow-bundle'], apart: true },
];
/** What src/ never imports: the tests, scripts, benchmarks and the example backend sit above it. */
const OUTSIDE = ['test', 'scripts', 'bench', 'example-backend'];

const up = (name) => `^(\\.\\./)+${name}(/.*)?$`;
const sameDir = (name) => `^\\./${name}(/.*)?$`;

function layerRules() {
  return LAYERS.map((layer, i) => {
    const later = LAYERS.slice(i + 1);
    const patterns = [];
    for (const l of later) {
      for (const f of l.folders) patterns.push({ regex: up(f), message: `${layer.name} must not import ${f}/ (a later layer: ${l.name})` });
      for (const f of l.files ?? [])
        patterns.push({ regex: up(f), message: `${layer.name} must not import src/${f}.ts (a later layer: ${l.name})` });
    }
    for (const f of OUTSIDE) patterns.push({ regex: up(f), message: `src/ must not import ${f}/` });
    const files = [...layer.folders.map((f) => `src/${f}/**/*.ts`), ...(layer.files ?? []).map((f) => `src/${f}.ts`)];
    const configs = [];
    if (!layer.apart) configs.push({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });
    else
      for (const own of [...layer.folders, ...(layer.files ?? [])]) {
        const isFile = (layer.files ?? []).includes(own);
        const others = layer.folders.filter((f) => f !== own);
        const apart = others.map((f) => ({
          regex: isFile ? sameDir(f) : up(f),
          message: `${own} and ${f} share a layer (${layer.name}) and do not import each other`,
        }));
        configs.push({
          files: [isFile ? `src/${own}.ts` : `src/${own}/**/*.ts`],
          rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, ...apart] }] },
        });
      }
    return configs;
  }).flat();
}

module.exports = tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'coverage/', 'bin/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layerRules(),
);
