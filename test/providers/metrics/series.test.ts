import { addRequests, emptyStats, statusClass } from '../../../src/providers/metrics/series';

describe('status labels', () => {
  test.each([
    ['503', 5],
    ['200', 2],
    ['404', 4],
    ['2xx', 2],
    ['5XX', 5],
    [' 5xx ', 5],
    ['OK', null],
    ['error', null],
    ['6xx', null],
    ['2000', null],
    ['', null],
    [undefined, null],
  ])('%p is of class %p', (label, cls) => {
    expect(statusClass(label)).toBe(cls);
  });

  test('router classes count as errors and successes; other labels are counted apart, never as failures', () => {
    const s = emptyStats();
    addRequests(s, '2xx', 90);
    addRequests(s, '5xx', 4);
    addRequests(s, '4xx', 2);
    addRequests(s, 'OK', 10);
    expect(s).toEqual({ requests: 106, errors: 4, successes: 90, buckets: [], unknownStatus: 10 });
  });
});
