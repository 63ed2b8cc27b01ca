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

// `npm test` also needs Prometheus (the prometheus metrics provider's real-process tests), HAProxy
// and nginx (the router traffic providers' real-process tests) and a browser (the rollout page's
// tests drive Debian's chromium with playwright-core): from Debian's packages when they are
// missing. Those packages start system services (Prometheus on :9090, nginx on :80, HAProxy); the
// tests start their own on free ports, so those are stopped.
if (process.argv.includes('--for-tests')) {
  ensureDebianPackage({ pkg: 'prometheus', commands: ['prometheus'], what: 'Prometheus (2.x)', after: (sudo) => stopSystemService(sudo, 'prometheus') });
  ensureDebianPackage({ pkg: 'haproxy', commands: ['haproxy'], what: 'HAProxy (2.x)', after: (sudo) => stopSystemService(sudo, 'haproxy') });
  ensureDebianPackage({ pkg: 'nginx', commands: ['nginx'], what: 'nginx', after: (sudo) => stopSystemService(sudo, 'nginx') });
  ensureDebianPackage({ pkg: 'chromium fonts-liberation', commands: ['chromium', 'chromium-browser'], what: 'chromium (the rollout page tests)' });
}

function has(cmd) {
  try {
    execSync(`command -v ${cmd}`, { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
}

function ensureDebianPackage({ pkg, commands, what, after }) {
  // haproxy and nginx live in /usr/sbin, which is not on every user's PATH.
  if (commands.some((c) => has(c) || fs.existsSync(`/usr/bin/${c}`) || fs.existsSync(`/usr/sbin/${c}`))) return;
  const sudo = typeof process.getuid === 'function' && process.getuid() !== 0 && has('sudo') ? 'sudo ' : '';
  if (!has('apt-get')) {
    console.error(`${what} is not installed and apt-get is not available: install ${pkg} and run npm test again.`);
    process.exit(1);
  }
  console.log(`Installing ${what} from Debian (apt-get install ${pkg})…`);
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execSync(`${sudo}apt-get update -qq`, { stdio: 'inherit', env, shell: '/bin/sh' });
    execSync(`${sudo}apt-get install -y -qq --no-install-recommends ${pkg} >/dev/null`, { stdio: 'inherit', env, shell: '/bin/sh' });
  } catch (err) {
    console.error(`Could not install ${pkg} with apt-get: ${err.message.split('\n')[0]}`);
    process.exit(1);
  }
  if (after) after(sudo);
}

/** Stops (and keeps from starting at boot) a service a package started; the tests run their own. */
function stopSystemService(sudo, name) {
  execSync(
    `${sudo}systemctl disable --now ${name} >/dev/null 2>&1 || ${sudo}service ${name} stop >/dev/null 2>&1 || pkill -x ${name} || true`,
    { stdio: 'ignore', shell: '/bin/sh' },
  );
}
