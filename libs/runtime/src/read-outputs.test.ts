import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TaskOutputInvalidError } from './errors';
import { readOutputs } from './read-outputs';

describe('readOutputs', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'skein-outputs-test-'));
    file = path.join(dir, 'outputs.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads no outputs from a missing, empty or blank file', () => {
    expect(readOutputs(file)).toBeUndefined();
    writeFileSync(file, '');
    expect(readOutputs(file)).toBeUndefined();
    writeFileSync(file, ' \n');
    expect(readOutputs(file)).toBeUndefined();
  });

  it('reads a JSON object', () => {
    writeFileSync(file, '{"rows": 3, "tables": ["a"]}\n');
    expect(readOutputs(file)).toEqual({ rows: 3, tables: ['a'] });
  });

  it('rejects invalid JSON, saying so', () => {
    writeFileSync(file, '{"rows": ');
    expect(() => readOutputs(file)).toThrow(TaskOutputInvalidError);
    expect(() => readOutputs(file)).toThrow(/not valid JSON/);
  });

  it('rejects JSON that is not an object', () => {
    writeFileSync(file, '[1, 2]');
    expect(() => readOutputs(file)).toThrow(/must be a JSON object, not an array/);
    writeFileSync(file, '42');
    expect(() => readOutputs(file)).toThrow(/not a number/);
    writeFileSync(file, 'null');
    expect(() => readOutputs(file)).toThrow(/not null/);
  });

  it('rejects outputs over the size limit', () => {
    writeFileSync(file, JSON.stringify({ blob: 'x'.repeat(100) }));
    expect(() => readOutputs(file, 64)).toThrow(/over the limit of 64/);
  });
});
