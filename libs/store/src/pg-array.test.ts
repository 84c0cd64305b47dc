import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { createPool } from './db';
import { intArray, textArray, timestampArray } from './pg-array';

// Every literal goes through a real PostgreSQL and must come back as the values it was built from,
// and as what pg itself makes of the same JavaScript array.
describe('PostgreSQL array literals', () => {
  let db: TestDatabase;
  let pool: Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const roundTrip = async (literal: string, type: string): Promise<unknown> =>
    (await pool.query<{ v: unknown }>(`SELECT $1::${type} AS v`, [literal])).rows[0]?.v;
  const viaPg = async (values: unknown[], type: string): Promise<unknown> =>
    (await pool.query<{ v: unknown }>(`SELECT $1::${type} AS v`, [values])).rows[0]?.v;

  it('keeps every text as it is: quotes, backslashes, separators, braces, spaces, the word NULL, empty, unicode', async () => {
    const values = ['plain', '', 'NULL', 'null', 'with "quotes"', 'back\\slash', 'trailing\\', '\\"', 'a,b', '{x}', ' spaced ', 'tab\there',
      'line\nbreak', 'ünï©ødé ✓ 🧶', '\u00a0', 'sql\'quote'];
    expect(await roundTrip(textArray(values), 'text[]')).toEqual(values);
    expect(await roundTrip(textArray(values), 'text[]')).toEqual(await viaPg(values, 'text[]'));
  });

  it('sends null as SQL NULL, and a plain array in one piece', async () => {
    expect(await roundTrip(textArray(['a', null, 'NULL', null]), 'text[]')).toEqual(['a', null, 'NULL', null]);
    expect(textArray(['0b9c', 'ff01'])).toBe('{"0b9c","ff01"}');
    expect(await roundTrip(textArray([]), 'text[]')).toEqual([]);
    expect(await roundTrip(textArray([null]), 'text[]')).toEqual([null]);
  });

  it('carries JSON texts to jsonb[]', async () => {
    const values = [JSON.stringify({ traceparent: '00-ab-cd-01' }), JSON.stringify({ q: 'say "hi"\\' }), null, '{}'];
    expect(await roundTrip(textArray(values), 'jsonb[]')).toEqual([{ traceparent: '00-ab-cd-01' }, { q: 'say "hi"\\' }, null, {}]);
  });

  it('writes integers, negative and large, with nulls', async () => {
    expect(await roundTrip(intArray([0, -1, 2_147_483_647, 42]), 'int[]')).toEqual([0, -1, 2_147_483_647, 42]);
    expect(await roundTrip(intArray([1, null, 3]), 'smallint[]')).toEqual([1, null, 3]);
    expect(await roundTrip(intArray([9_007_199_254_740_991]), 'bigint[]')).toEqual(['9007199254740991']);
    expect(await roundTrip(intArray([]), 'int[]')).toEqual([]);
  });

  it('refuses what is not an integer instead of sending it', () => {
    expect(() => intArray([1.5])).toThrow('not an integer for an integer array: 1.5');
    expect(() => intArray([Number.NaN])).toThrow(TypeError);
  });

  it('writes instants to the millisecond, with nulls, whatever the time zone', async () => {
    const values = [new Date('2026-11-21T16:29:37.123Z'), null, new Date(0), new Date('1999-12-31T23:59:59.999+05:30')];
    const back = (await roundTrip(timestampArray(values), 'timestamptz[]')) as (Date | null)[];
    expect(back.map((d) => d?.getTime() ?? null)).toEqual(values.map((d) => d?.getTime() ?? null));
    expect(back).toEqual(await viaPg(values, 'timestamptz[]'));
    expect(() => timestampArray([new Date(Number.NaN)])).toThrow('an invalid Date in a timestamp array (element 0)');
  });

  it('formats every instant as toISOString does, within a second, across seconds, before 1970 and after 9999', () => {
    const base = Date.UTC(2026, 10, 21, 16, 29, 59, 990);
    const instants = [...Array.from({ length: 40 }, (_, i) => new Date(base + i)), new Date(-1), new Date(-1001), new Date(-62_198_755_200_000),
      new Date(253_402_300_800_123), new Date(base), new Date(base + 5), new Date(base + 50)];
    expect(timestampArray(instants)).toBe(`{${instants.map((d) => d.toISOString()).join(',')}}`);
  });
});
