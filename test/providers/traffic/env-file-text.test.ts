import { parseEnvFile, updateEnvFile } from '../../../src/providers/traffic/env-file';

describe('updateEnvFile keeps everything but the values it sets', () => {
  const cases: Array<[string, string, Record<string, string>, string]> = [
    [
      'replaces a plain value',
      'A=1\nROLLOUT_PERCENT=10\n',
      { ROLLOUT_PERCENT: '25' },
      'A=1\nROLLOUT_PERCENT=25\n',
    ],
    [
      'keeps comments and blank lines',
      '# switches\n\nROLLOUT_PERCENT=10 # phase 2\n',
      { ROLLOUT_PERCENT: '50' },
      '# switches\n\nROLLOUT_PERCENT=50 # phase 2\n',
    ],
    [
      'keeps export and quotes',
      'export USE_DOMAIN_SERVICE="true"\n',
      { USE_DOMAIN_SERVICE: 'false' },
      'export USE_DOMAIN_SERVICE="false"\n',
    ],
    ['keeps single quotes', "X='5'\n", { X: '6' }, "X='6'\n"],
    [
      'does not touch a commented-out assignment',
      '#ROLLOUT_PERCENT=1\nROLLOUT_PERCENT=2\n',
      { ROLLOUT_PERCENT: '3' },
      '#ROLLOUT_PERCENT=1\nROLLOUT_PERCENT=3\n',
    ],
    [
      'does not touch a variable whose name only starts the same',
      'ROLLOUT_PERCENT_READ=1\n',
      { ROLLOUT_PERCENT: '3' },
      'ROLLOUT_PERCENT_READ=1\nROLLOUT_PERCENT=3\n',
    ],
    ['appends a missing variable before the final newline', 'A=1\n', { B: '2' }, 'A=1\nB=2\n'],
    ['appends to a file without a final newline', 'A=1', { B: '2' }, 'A=1\nB=2'],
    ['sets every duplicate (the last one wins in a shell)', 'P=1\nP=2\n', { P: '9' }, 'P=9\nP=9\n'],
    ['keeps CRLF line ends', 'A=1\r\nP=2\r\n', { P: '7' }, 'A=1\r\nP=7\r\n'],
    [
      'sets several at once',
      'USE_DOMAIN_SERVICE=false\nROLLOUT_PERCENT=0\n',
      { USE_DOMAIN_SERVICE: 'true', ROLLOUT_PERCENT: '5' },
      'USE_DOMAIN_SERVICE=true\nROLLOUT_PERCENT=5\n',
    ],
  ];
  test.each(cases)('%s', (_name, before, values, after) => {
    expect(updateEnvFile(before, values)).toBe(after);
  });
});

describe('parseEnvFile', () => {
  const cases: Array<[string, string, Record<string, string>]> = [
    ['plain', 'A=1\nB=two\n', { A: '1', B: 'two' }],
    ['export, quotes, comments', 'export A="x y"\nB=3 # note\n# C=4\n', { A: 'x y', B: '3' }],
    ['last assignment wins', 'A=1\nA=2\n', { A: '2' }],
    ['empty value', 'A=\n', { A: '' }],
  ];
  test.each(cases)('%s', (_name, text, expected) => {
    const vars = parseEnvFile(text);
    expect(Object.fromEntries([...vars].map(([k, v]) => [k, v.value]))).toEqual(expected);
  });

  test('remembers line numbers for error messages', () => {
    expect(parseEnvFile('# x\nA=1\n').get('A')?.line).toBe(2);
  });
});
