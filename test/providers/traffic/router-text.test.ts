import { parseReadOutput } from '../../../src/providers/traffic/argv';
import { fill } from '../../../src/providers/traffic/argv';
import { parseServersState, sharePercent, type ServerState } from '../../../src/providers/traffic/haproxy';
import { parseNginxStatus, renderNginxFile, type NginxTrafficConfig } from '../../../src/providers/traffic/nginx';

/** What routers and read commands answer, read without a router (issue 23). */

const HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';
const row = (be: string, id: number, name: string, op: number, admin: number, weight: number) =>
  `3 ${be} ${id} ${name} 127.0.0.1 ${op} ${admin} ${weight} 100 1 1 0 2 0 0 0 0 - 1900${id} - 0 0 - - 0`;

describe('show servers state', () => {
  test.each<[string, string, Array<Partial<ServerState>>]>([
    [
      'one backend, as HAProxy 2.6 prints it',
      `1\n${HEADER}\n${row('be_read', 1, 'legacy', 2, 0, 90)}\n${row('be_read', 2, 'domain', 2, 0, 10)}\n\n`,
      [
        { backend: 'be_read', server: 'legacy', opState: 2, adminState: 0, weight: 90 },
        { backend: 'be_read', server: 'domain', opState: 2, adminState: 0, weight: 10 },
      ],
    ],
    [
      'two commands joined with ;: the version and header repeat',
      `1\n${HEADER}\n${row('a', 1, 'l', 2, 0, 1)}\n\n1\n${HEADER}\n${row('b', 1, 'l', 0, 1, 5)}\n\n`,
      [
        { backend: 'a', server: 'l', weight: 1 },
        { backend: 'b', server: 'l', opState: 0, adminState: 1, weight: 5 },
      ],
    ],
    [
      'columns found by name, not position',
      '1\n# srv_uweight be_name srv_name srv_admin_state srv_op_state\n7 be s 8 2\n',
      [{ backend: 'be', server: 's', weight: 7, adminState: 8, opState: 2 }],
    ],
    ['a backend without servers', `1\n${HEADER}\n\n`, []],
  ])('%s', (_name, text, expected) => {
    expect(parseServersState(text, 'api')).toMatchObject(expected);
  });

  test.each<[string, string, string]>([
    ['another format version', `2\n${HEADER}\n`, 'api: show servers state format 2 is not supported (only 1)'],
    ['rows before a header', `1\n${row('be', 1, 's', 2, 0, 1)}\n`, 'api: unexpected answer'],
    ['an error line', "Can't find backend.\n", 'api: unexpected answer "Can\'t find backend."'],
    ['a header without weights', '1\n# be_id be_name srv_name srv_op_state srv_admin_state\n', 'api: show servers state has no column srv_uweight'],
    ['a weight that is not a number', `1\n${HEADER}\n3 be 1 s 127.0.0.1 2 0 lots 1 1 1 0 2 0 0 0 0 - 1 - 0 0 - - 0\n`, 'api: srv_uweight is "lots"'],
    ['a truncated row', `1\n${HEADER}\n3 be 1 s 127.0.0.1 2\n`, 'api: srv_admin_state is "(missing)"'],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseServersState(text, 'api')).toThrow(message);
  });

  const s = (opState: number, adminState: number, weight: number): ServerState => ({ backend: 'b', server: 's', opState, adminState, weight });
  test.each<[string, ServerState, ServerState, number]>([
    ['weights 90/10', s(2, 0, 90), s(2, 0, 10), 10],
    ['weights 1/3', s(2, 0, 1), s(2, 0, 3), 75],
    ['weights 2/1 (rounded to 0.01)', s(2, 0, 2), s(2, 0, 1), 33.33],
    ['domain weight 0', s(2, 0, 100), s(2, 0, 0), 0],
    ['legacy weight 0', s(2, 0, 0), s(2, 0, 100), 100],
    ['domain in forced maintenance', s(2, 0, 50), s(0, 1, 50), 0],
    ['domain draining', s(2, 0, 50), s(2, 8, 50), 0],
    ['domain down (health check)', s(2, 0, 50), s(0, 0, 50), 0],
    ['legacy in maintenance: all to domain', s(0, 1, 50), s(2, 0, 50), 100],
    ['neither serving', s(0, 1, 50), s(0, 1, 50), 0],
  ])('share: %s', (_name, legacy, domain, percent) => {
    expect(sharePercent(legacy, domain)).toBe(percent);
  });
});

describe('nginx status text', () => {
  test.each<[string, string, boolean, ReturnType<typeof parseNginxStatus>]>([
    ['as the status location returns it', 'generation=0123abcd\ngroup=read percent=10\ngroup=write percent=0\n', false, { generation: '0123abcd', groups: { read: 10, write: 0 } }],
    ['from the file header, other comments skipped', '# Written by …\n# generation=ff\n# group=read percent=100\nupstream u {\n', true, { generation: 'ff', groups: { read: 100 } }],
    ['empty', '', false, { groups: {} }],
  ])('%s', (_name, text, comments, expected) => {
    expect(parseNginxStatus(text, 'status', comments)).toEqual(expected);
  });

  test.each<[string, string, string]>([
    ['an HTML page', '<html>404</html>', 'status: cannot read "<html>404</html>"'],
    ['a percent past 100', 'group=read percent=150', 'status: cannot read "group=read percent=150"'],
    ['a cut-off line', 'group=read perc', 'status: cannot read "group=read perc"'],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseNginxStatus(text, 'status')).toThrow(message);
  });

  const config: NginxTrafficConfig = {
    type: 'nginx',
    file: '/tmp/x.conf',
    statusListen: '127.0.0.1:8099',
    groups: {
      read: { upstream: 'camera_read', legacy: '127.0.0.1:8001', domain: '127.0.0.1:8002' },
      write: { upstream: 'camera_write', legacy: '127.0.0.1:8001', domain: 'unix:/run/d.sock' },
    },
    testCommand: ['nginx', '-t'],
    reloadCommand: ['nginx', '-s', 'reload'],
    timeout: '30s',
  };

  test('the owned file: weights, down at 0 and 100, a status location repeating the header', () => {
    const { text, generation } = renderNginxFile(config, { read: 10, write: 100 });
    expect(text).toContain('upstream camera_read {\n    server 127.0.0.1:8001 weight=90;\n    server 127.0.0.1:8002 weight=10;\n}');
    expect(text).toContain('upstream camera_write {\n    server 127.0.0.1:8001 down;\n    server unix:/run/d.sock weight=100;\n}');
    expect(text).toContain('listen 127.0.0.1:8099;');
    expect(text).toContain(`return 200 "generation=${generation}\\ngroup=read percent=10\\ngroup=write percent=100\\n";`);
    expect(parseNginxStatus(text, 'file', true)).toEqual({ generation, groups: { read: 10, write: 100 } });
    expect(renderNginxFile(config, { read: 10, write: 100 }).generation).toBe(generation);
    expect(renderNginxFile(config, { read: 11, write: 100 }).generation).not.toBe(generation);
    expect(renderNginxFile(config, {}).text).toContain('server 127.0.0.1:8002 down;');
  });
});

describe('read command output', () => {
  test.each<[string, string, ReturnType<typeof parseReadOutput>]>([
    ['a bare percent', '25\n', { single: 25, groups: {} }],
    ['a percent with %', ' 12.5% ', { single: 12.5, groups: {} }],
    ['group=percent lines, comments and blanks skipped', '# weights\nread=10\n\nwrite = 0\n', { groups: { read: 10, write: 0 } }],
    ['with the kill switch', 'useDomainService=false\nread=10\n', { groups: { read: 10 }, useDomainService: false }],
  ])('%s', (_name, text, expected) => {
    expect(parseReadOutput(text, 'read')).toEqual(expected);
  });

  test.each<[string, string, string]>([
    ['nothing', '\n', 'read: printed nothing'],
    ['a word', 'ok', 'read: "ok" is not a percent (0..100)'],
    ['a negative percent', '-5', 'read: "-5" is not a percent'],
    ['past 100', '100.5', 'read: "100.5" is not a percent'],
    ['a JSON answer', '{"read": 10}\nx', 'read: cannot read "{\\"read\\": 10}"'],
    ['a group twice', 'read=1\nread=2', 'read: group read printed twice'],
    ['a kill switch that is not a boolean', 'useDomainService=maybe\nread=1', 'useDomainService=maybe is not true or false'],
    ['NaN', 'read=NaN\nwrite=1', 'read: read=NaN is not a percent'],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseReadOutput(text, 'read')).toThrow(message);
  });

  test('placeholders fill within one argument, never splitting it', () => {
    expect(fill(['set.sh', '--group={group}', '{percent}', '{other}'], { group: 'a b;rm -rf /', percent: '5' })).toEqual([
      'set.sh',
      '--group=a b;rm -rf /',
      '5',
      '{other}',
    ]);
  });
});
