// The worker bundles this file: workflow code only (no Node APIs, no I/O).
export { rolloutWorkflow } from './rollout-workflow';
