import { formatDuration } from './format-duration';

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [4, '4ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1234, '1.2s'],
    [30_000, '30s'],
    [59_990, '1m'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [3_900_000, '1h5m'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
