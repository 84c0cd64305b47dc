/** The longest line a task log holds, in bytes of UTF-8; longer lines are split. */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream into text lines: `\n` or `\r\n` ends a line, a line longer than
 * `maxLineBytes` is cut (on a UTF-8 character boundary, so no character is broken), and
 * {@link LineSplitter.end} emits a last line that had no newline.
 *
 * Works on bytes rather than decoded text so that a multi-byte character split across two chunks
 * is decoded whole, and a chunk of complete lines (the common case) is decoded with no copying.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly emit: (text: string) => void,
    private readonly maxLineBytes: number = MAX_LINE_BYTES,
  ) {}

  /** Feeds a chunk; emits every line it completes. */
  push(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      if (this.pendingBytes > 0) {
        this.pending.push(chunk.subarray(start, newline));
        const line = Buffer.concat(this.pending, this.pendingBytes + newline - start);
        this.pending = [];
        this.pendingBytes = 0;
        this.emitLine(line, 0, line.length);
      } else {
        this.emitLine(chunk, start, newline);
      }
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  /** Emits the last line when the stream ended without a newline. */
  end(): void {
    if (this.pendingBytes === 0) return;
    const line = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.emitLine(line, 0, line.length);
  }

  /** Holds an incomplete line; emits its head at once when it outgrows the limit. */
  private keep(part: Buffer): void {
    this.pending.push(part);
    this.pendingBytes += part.length;
    if (this.pendingBytes <= this.maxLineBytes) return;
    const joined = Buffer.concat(this.pending, this.pendingBytes);
    let start = 0;
    while (joined.length - start > this.maxLineBytes) {
      const cut = charBoundary(joined, start + this.maxLineBytes, start);
      this.emit(joined.toString('utf8', start, cut));
      start = cut;
    }
    const rest = joined.subarray(start);
    this.pending = [rest];
    this.pendingBytes = rest.length;
  }

  /** Emits bytes [start, end) of `buffer` (a line without its `\n`) as one or more lines. */
  private emitLine(buffer: Buffer, start: number, end: number): void {
    if (end > start && buffer[end - 1] === CARRIAGE_RETURN) end -= 1;
    while (end - start > this.maxLineBytes) {
      const cut = charBoundary(buffer, start + this.maxLineBytes, start);
      this.emit(buffer.toString('utf8', start, cut));
      start = cut;
    }
    this.emit(buffer.toString('utf8', start, end));
  }
}

/**
 * The greatest index ≤ `at` (and > `floor`) that does not fall inside a UTF-8 sequence, so a cut
 * there breaks no character. Invalid input (no lead byte within 3 bytes) is cut at `at`.
 */
function charBoundary(buffer: Buffer, at: number, floor: number): number {
  for (let i = at; i > floor && i > at - 4; i--) {
    const byte = buffer[i] ?? 0;
    // 10xxxxxx is a continuation byte; anything else starts a character.
    if ((byte & 0xc0) !== 0x80) return i;
  }
  return at;
}
