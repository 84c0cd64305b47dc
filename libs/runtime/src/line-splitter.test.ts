import { LineSplitter, MAX_LINE_BYTES } from './line-splitter';

function split(chunks: (string | Buffer)[], max?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((text) => lines.push(text), max);
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('splits complete lines in one chunk', () => {
    expect(split(['a\nb\nc\n'])).toEqual(['a', 'b', 'c']);
  });

  it('joins a line split across chunks', () => {
    expect(split(['hel', 'lo wo', 'rld\nnext', '\n'])).toEqual(['hello world', 'next']);
  });

  it('strips \\r\\n, also when \\r and \\n arrive in different chunks', () => {
    expect(split(['one\r\ntwo\r', '\nthree\r\n'])).toEqual(['one', 'two', 'three']);
  });

  it('keeps a lone \\r inside a line', () => {
    expect(split(['10%\r50%\r100%\n'])).toEqual(['10%\r50%\r100%']);
  });

  it('emits a final line without a newline on end', () => {
    expect(split(['a\nlast'])).toEqual(['a', 'last']);
  });

  it('keeps empty lines', () => {
    expect(split(['\n\nx\n'])).toEqual(['', '', 'x']);
  });

  it('emits nothing for an empty stream', () => {
    expect(split([])).toEqual([]);
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('héllo €\n');
    expect(split([bytes.subarray(0, 2), bytes.subarray(2, 8), bytes.subarray(8)])).toEqual(['héllo €']);
  });

  it('splits a very long line at the limit', () => {
    const long = 'x'.repeat(MAX_LINE_BYTES * 2 + 10);
    const lines = split([`${long}\n`]);
    expect(lines.map((l) => l.length)).toEqual([MAX_LINE_BYTES, MAX_LINE_BYTES, 10]);
  });

  it('splits a long line that arrives in many chunks without waiting for its newline', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((text) => lines.push(text), 10);
    for (let i = 0; i < 5; i++) splitter.push(Buffer.from('abcd'));
    expect(lines).toEqual(['abcdabcdab']);
    splitter.push(Buffer.from('\n'));
    expect(lines).toEqual(['abcdabcdab', 'cdabcdabcd']);
    splitter.end();
    expect(lines).toHaveLength(2);
  });

  it('never cuts inside a UTF-8 character', () => {
    // '€' is 3 bytes; a limit of 10 bytes fits three of them (9 bytes), never a broken fourth.
    const lines = split(['€€€€€€€\n'], 10);
    expect(lines).toEqual(['€€€', '€€€', '€']);
    expect(lines.join('')).not.toContain('\uFFFD');
  });
});
