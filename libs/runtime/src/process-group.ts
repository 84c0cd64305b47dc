import { existsSync } from 'node:fs';

/**
 * Sends a signal to a whole process group (a task and every child it started). Returns false when
 * the group is already gone.
 */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // ESRCH: nothing left in the group. EPERM cannot happen for our own children.
    return false;
  }
}

/**
 * Why `command` could not be spawned, in words that say what to do. `cwd` is checked because a
 * missing working directory is reported by the OS as the same ENOENT as a missing command.
 */
export function describeSpawnError(command: string, error: NodeJS.ErrnoException, cwd: string | undefined): string {
  if (error.code === 'ENOENT') {
    if (cwd !== undefined && !existsSync(cwd)) return `working directory "${cwd}" does not exist`;
    return command.includes('/') ? `command "${command}" not found` : `command "${command}" not found on PATH`;
  }
  if (error.code === 'EACCES') return `command "${command}" is not executable (permission denied)`;
  if (error.code === 'ENOEXEC') return `command "${command}" is not an executable the system can run (bad format)`;
  return `command "${command}" could not be started: ${error.message}`;
}
