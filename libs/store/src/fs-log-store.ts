import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LogRetentionResult, LogStore } from './log-store';
import type { LogExpiry, LogLineRecord, LogStatus, LogStreamCode } from './logs';

/**
 * A log store in a directory (a shared volume, or a laptop's disk): one directory per attempt, one
 * file per run of consecutive lines (`<first>-<last>.ndjson`, written to a temporary name and
 * renamed, so a reader never sees half a file), and `meta.json` (final count, last change, gap flag).
 * Idempotent like the PostgreSQL store: a batch stored again rewrites the same file with the same
 * lines. It is not transactional across batches: when `storeBatches` fails half-way, the batches
 * already written stay, and the redelivery of all of them rewrites those and adds the rest.
 */
export function createFsLogStore(directory: string): LogStore {
  const attemptDir = (attemptId: string) => path.join(directory, encodeURIComponent(attemptId));
  return {
    async storeBatches(batches) {
      const touched = new Set<string>();
      for (const batch of batches) {
        const dir = attemptDir(batch.attemptId);
        await mkdir(dir, { recursive: true });
        for (const run of consecutiveRuns(batch.lines)) await writeAtomically(path.join(dir, chunkName(run)), run.map(encodeLine).join(''));
        const meta = await readMeta(dir);
        const workflow = meta.workflow ?? (batch.workflow || undefined);
        await writeMeta(dir, { ...meta, finalCount: batch.finalCount ?? meta.finalCount, updateTime: Date.now(), ...(workflow !== undefined && { workflow }) });
        touched.add(batch.attemptId);
      }
      const statuses = new Map<string, LogStatus>();
      for (const attemptId of touched) statuses.set(attemptId, await statusOf(attemptDir(attemptId)));
      return statuses;
    },
    async readLines(attemptId, afterSequence, limit) {
      const dir = attemptDir(attemptId);
      const out: LogLineRecord[] = [];
      // Chunks sorted by first sequence: lines come out in order, a sequence held twice once.
      for (const chunk of await listChunks(dir)) {
        if (out.length >= limit) break;
        if (chunk.last <= (out[out.length - 1]?.sequence ?? afterSequence)) continue;
        for (const line of await readChunk(path.join(dir, chunk.file))) {
          if (out.length < limit && line.sequence > (out[out.length - 1]?.sequence ?? afterSequence)) out.push(line);
        }
      }
      return out;
    },
    status: (attemptId) => statusOf(attemptDir(attemptId)),
    async outputBytes(attemptId) {
      const dir = attemptDir(attemptId);
      let bytes = 0;
      let last = 0;
      // Chunks sorted by first sequence; a sequence held by two chunks counts once.
      for (const chunk of await listChunks(dir)) {
        if (chunk.last <= last) continue;
        for (const line of await readChunk(path.join(dir, chunk.file))) {
          if (line.sequence <= last) continue;
          last = line.sequence;
          if (line.stream !== 3) bytes += Buffer.byteLength(line.text);
        }
      }
      return bytes;
    },
    async flagGaps(graceMs) {
      const flagged: { attemptId: string; missing: number }[] = [];
      for (const entry of await listDir(directory)) {
        const dir = path.join(directory, entry);
        const meta = await readMeta(dir);
        if (meta.finalCount === null || meta.gapDetectTime !== null || meta.updateTime >= Date.now() - graceMs) continue;
        const stored = await storedCount(dir);
        if (stored >= meta.finalCount) continue;
        await writeMeta(dir, { ...meta, gapDetectTime: Date.now() });
        flagged.push({ attemptId: decodeURIComponent(entry), missing: meta.finalCount - stored });
      }
      return flagged;
    },
    async deleteExpired(expiry, options) {
      let attempts = 0;
      let lines = 0;
      for (const entry of await listDir(directory)) {
        if (attempts >= options.maxAttempts) break;
        const dir = path.join(directory, entry);
        const meta = await readMeta(dir);
        if (meta.updateTime === 0 || meta.updateTime >= expiry.before.getTime() || !selects(expiry, meta.workflow)) continue;
        // One chunk file at a time: each is at most one executor batch.
        for (const chunk of await listChunks(dir)) {
          await rm(path.join(dir, chunk.file), { force: true });
          lines += chunk.last - chunk.first + 1;
        }
        await rm(dir, { recursive: true, force: true });
        attempts += 1;
      }
      return { attempts, lines } satisfies LogRetentionResult;
    },
  };
}

interface Meta {
  readonly finalCount: number | null;
  /** Epoch ms of the last write; 0 when unknown. */
  readonly updateTime: number;
  readonly gapDetectTime: number | null;
  /** The attempt's workflow, from its first batch that named one. */
  readonly workflow?: string;
}

function selects(expiry: LogExpiry, workflow: string | undefined): boolean {
  if ('workflow' in expiry) return workflow === expiry.workflow;
  return workflow === undefined || !expiry.exceptWorkflows.includes(workflow);
}

interface Chunk {
  readonly file: string;
  readonly first: number;
  readonly last: number;
}

const CHUNK = /^(\d{15})-(\d{15})\.ndjson$/;
const pad = (n: number) => String(n).padStart(15, '0');
const chunkName = (run: readonly LogLineRecord[]) => `${pad(run[0]!.sequence)}-${pad(run[run.length - 1]!.sequence)}.ndjson`;

function consecutiveRuns(lines: readonly LogLineRecord[]): LogLineRecord[][] {
  const sorted = [...lines].sort((a, b) => a.sequence - b.sequence);
  const runs: LogLineRecord[][] = [];
  for (const line of sorted) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (last && line.sequence === last.sequence) continue;
    if (run && last && line.sequence === last.sequence + 1) run.push(line);
    else runs.push([line]);
  }
  return runs;
}

function encodeLine(line: LogLineRecord): string {
  return `${JSON.stringify({ s: line.sequence, k: line.stream, t: line.time.toISOString(), x: line.text })}\n`;
}

async function readChunk(file: string): Promise<LogLineRecord[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const r = JSON.parse(l) as { s: number; k: LogStreamCode; t: string; x: string };
    return { sequence: r.s, stream: r.k, time: new Date(r.t), text: r.x };
  });
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function listChunks(dir: string): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for (const file of await listDir(dir)) {
    const match = CHUNK.exec(file);
    if (match) chunks.push({ file, first: Number(match[1]), last: Number(match[2]) });
  }
  return chunks.sort((a, b) => a.first - b.first || b.last - a.last);
}

/** Distinct sequences held by the chunks (their ranges may overlap when batches were cut differently). */
async function storedCount(dir: string): Promise<number> {
  let count = 0;
  let covered = 0;
  for (const chunk of await listChunks(dir)) {
    const from = Math.max(chunk.first, covered + 1);
    if (chunk.last >= from) count += chunk.last - from + 1;
    covered = Math.max(covered, chunk.last);
  }
  return count;
}

async function readMeta(dir: string): Promise<Meta> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as Meta;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { finalCount: null, updateTime: 0, gapDetectTime: null };
    throw err;
  }
}

async function writeMeta(dir: string, meta: Meta): Promise<void> {
  await writeAtomically(path.join(dir, 'meta.json'), JSON.stringify(meta));
}

async function statusOf(dir: string): Promise<LogStatus> {
  const meta = await readMeta(dir);
  const stored = await storedCount(dir);
  const complete = meta.finalCount !== null && stored >= meta.finalCount;
  return { storedCount: stored, finalCount: meta.finalCount, complete, ...(meta.gapDetectTime !== null && !complete ? { gap: true } : {}) };
}
