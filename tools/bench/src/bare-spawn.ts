import { spawn } from 'node:child_process';

/** Starts /bin/true and resolves when it exited: the task body of W5, and its baseline. */
export function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`/bin/true exited ${code}`))));
  });
}

/** Milliseconds to run `count` bare /bin/true processes with at most `concurrency` at once. */
export async function bareSpawns(count: number, concurrency: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(count, concurrency) }, async () => {
    while (next < count) { next++; await spawnTrue(); }
  }));
  return performance.now() - t0;
}
