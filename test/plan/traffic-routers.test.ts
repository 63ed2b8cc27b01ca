import { validatePlan } from '../../src/plan/validate';
import { seedPlan } from '../helpers/workflow-harness';

/** `target.traffic` for routers (issue 23): haproxy, nginx, command, and env-file's readCommand. */
type Loose = Record<string, unknown>;

const haproxy = (): Loose => ({
  type: 'haproxy',
  runtimeApi: 'unix:/run/haproxy/admin.sock',
  groups: {
    read: { backend: 'be_read', legacy: 'legacy', domain: 'domain' },
    write: { backend: 'be_write', legacy: 'legacy', domain: 'domain' },
  },
});
const nginx = (): Loose => ({
  type: 'nginx',
  file: './rollout.conf',
  statusListen: '127.0.0.1:8099',
  groups: {
    read: { upstream: 'camera_read', legacy: '127.0.0.1:8001', domain: '127.0.0.1:8002' },
    write: { upstream: 'camera_write', legacy: '127.0.0.1:8001', domain: 'unix:/run/domain.sock' },
  },
});
const command = (): Loose => ({
  type: 'command',
  set: ['./set-weight.sh', '--group={group}', '{percent}'],
  read: ['./read-weight.sh', '{group}'],
});
const envFile = (): Loose => ({
  type: 'env-file',
  path: './b.env',
  restartCommand: 'true',
  healthUrl: 'http://127.0.0.1:8000/h',
  variables: { read: 'P_READ', write: 'P_WRITE' },
});

function check(traffic: Loose) {
  const plan = seedPlan();
  plan.target.traffic = traffic as never;
  return validatePlan(plan);
}
const problems = (traffic: Loose) => {
  const v = check(traffic);
  return v.ok ? [] : v.problems.map((p) => `${p.path}: ${p.message}`);
};

test.each<[string, Loose, Loose]>([
  ['haproxy over a unix socket', haproxy(), { timeout: '5s' }],
  ['haproxy over TCP', { ...haproxy(), runtimeApi: 'tcp:127.0.0.1:9999', timeout: '2s' }, { timeout: '2s' }],
  ['nginx with its defaults', nginx(), { testCommand: ['nginx', '-t'], reloadCommand: ['nginx', '-s', 'reload'], timeout: '30s' }],
  [
    'nginx with its own commands',
    { ...nginx(), testCommand: ['/usr/sbin/nginx', '-t', '-c', '/etc/nginx/nginx.conf'], reloadCommand: ['/usr/bin/systemctl', 'reload', 'nginx'] },
    { reloadCommand: ['/usr/bin/systemctl', 'reload', 'nginx'] },
  ],
  ['command', command(), { timeout: '30s' }],
  ['command whose read prints every group', { ...command(), read: ['./read-all.sh'] }, { read: ['./read-all.sh'] }],
  ['env-file with a readCommand', { ...envFile(), readCommand: ['./percent.sh', '{group}'] }, { readCommand: ['./percent.sh', '{group}'] }],
])('accepts %s', (_name, traffic, expected) => {
  const v = check(traffic);
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  expect(v.plan.target.traffic).toMatchObject(expected);
});

test.each<[string, Loose, string]>([
  ['an unknown key', { ...haproxy(), socket: '/x' }, 'target.traffic.socket: unknown key'],
  ['an unknown key in a group', { ...haproxy(), groups: { read: { backend: 'b', legacy: 'l', domain: 'd', weight: 1 }, write: { backend: 'b', legacy: 'l', domain: 'd' } } }, 'target.traffic.groups.read.weight: unknown key'],
  ['a runtime API that is neither unix: nor tcp:', { ...haproxy(), runtimeApi: '/run/haproxy.sock' }, 'target.traffic.runtimeApi: must be unix:/path/to/admin.sock or tcp:host:port'],
  ['a server name carrying a second command', { ...haproxy(), groups: { read: { backend: 'be', legacy: 'l;shutdown', domain: 'd' }, write: { backend: 'b', legacy: 'l', domain: 'd' } } }, 'target.traffic.groups.read.legacy: must be an HAProxy name'],
  ['the same server on both sides', { ...haproxy(), groups: { read: { backend: 'be', legacy: 's', domain: 's' }, write: { backend: 'b', legacy: 'l', domain: 'd' } } }, 'target.traffic.groups.read.domain: legacy and domain must be different servers'],
  ['a plan group without an HAProxy mapping', { ...haproxy(), groups: { read: { backend: 'be', legacy: 'l', domain: 'd' } } }, 'target.traffic.groups: has no mapping for group "write" (phases[1].group): add write: { backend, legacy, domain }'],
  ['no groups at all', { ...haproxy(), groups: {} }, 'target.traffic.groups: must map at least one group'],
  ['a plan group without an nginx mapping', { ...nginx(), groups: { write: (nginx().groups as Loose).write } }, 'target.traffic.groups: has no mapping for group "read" (phases[0].group): add read: { upstream, legacy, domain }'],
  ['an nginx address with config syntax in it', { ...nginx(), groups: { ...(nginx().groups as Loose), read: { upstream: 'u', legacy: '127.0.0.1:1; include /etc/passwd', domain: '127.0.0.1:2' } } }, 'target.traffic.groups.read.legacy: must be host:port or unix:/path'],
  ['an upstream name that is not a name', { ...nginx(), groups: { ...(nginx().groups as Loose), read: { upstream: 'a b', legacy: '127.0.0.1:1', domain: '127.0.0.1:2' } } }, 'target.traffic.groups.read.upstream: must be an upstream name'],
  ['two groups on one upstream', { ...nginx(), groups: { read: { upstream: 'u', legacy: '127.0.0.1:1', domain: '127.0.0.1:2' }, write: { upstream: 'u', legacy: '127.0.0.1:1', domain: '127.0.0.1:3' } } }, 'target.traffic.groups.write.upstream: duplicate upstream "u" (already at target.traffic.groups.read.upstream)'],
  ['a status address that is a URL', { ...nginx(), statusListen: 'http://127.0.0.1:8099/' }, 'target.traffic.statusListen: must be host:port'],
  ['a test command as a shell string', { ...nginx(), testCommand: 'nginx -t' }, 'target.traffic.testCommand:'],
  ['an empty reload command', { ...nginx(), reloadCommand: [] }, 'target.traffic.reloadCommand: must name the program'],
  ['a set command without {percent}', { ...command(), set: ['./set.sh', '{group}'] }, 'target.traffic.set: must pass {percent} in one of its arguments'],
  ['an unknown placeholder', { ...command(), read: ['./read.sh', '{grup}'] }, 'target.traffic.read[1]: unknown placeholder {grup} (known: {group})'],
  ['{percent} in a read', { ...command(), read: ['./read.sh', '{percent}'] }, 'target.traffic.read[1]: unknown placeholder {percent}'],
  ['a placeholder as the program', { ...command(), set: ['{group}', '{percent}'] }, 'target.traffic.set[0]: the program itself cannot be a placeholder'],
  ['a command missing read', { type: 'command', set: ['./s', '{percent}'] }, 'target.traffic.read: is required'],
  ['a placeholder in an nginx command', { ...nginx(), testCommand: ['nginx', '-t', '{group}'] }, 'target.traffic.testCommand[2]: unknown placeholder {group} (none is filled in here)'],
  ['env-file readCommand with {percent}', { ...envFile(), readCommand: ['./p.sh', '{percent}'] }, 'target.traffic.readCommand[1]: unknown placeholder {percent}'],
  ['an unknown type', { type: 'traefik' }, 'target.traffic.type: must be one of "http", "env-file", "haproxy", "nginx", "command"'],
])('refuses %s', (_name, traffic, message) => {
  expect(problems(traffic).join('\n')).toContain(message);
});

test('warns when two HAProxy groups share servers', () => {
  const v = check({ ...haproxy(), groups: { read: { backend: 'be', legacy: 'l', domain: 'd' }, write: { backend: 'be', legacy: 'l', domain: 'd2' } } });
  expect(v.ok && v.warnings.map((w) => w.message)).toEqual([
    'groups read, write share the server be/l: changing one changes the others',
  ]);
});
