import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as proto from '@skein/proto';

/**
 * Every method of every public gRPC service (skein.v1) is called by at least one TypeScript test.
 * A method added to a .proto without a test fails here, naming it.
 */

const APPS = path.join(__dirname, '..', '..');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(full);
    return entry.name.endsWith('.test.ts') && full !== __filename ? [full] : [];
  });
}

interface MethodShape {
  readonly path?: unknown;
}

/** `skein.v1.X/Method` → the generated client's method name, for every public service definition. */
function publicMethods(): { service: string; path: string; clientMethod: string }[] {
  const methods: { service: string; path: string; clientMethod: string }[] = [];
  for (const [exportName, value] of Object.entries(proto)) {
    if (!exportName.endsWith('Service') || typeof value !== 'object' || value === null) continue;
    for (const [clientMethod, method] of Object.entries(value as Record<string, MethodShape>)) {
      if (typeof method?.path === 'string' && method.path.startsWith('/skein.v1.')) methods.push({ service: exportName, path: method.path, clientMethod });
    }
  }
  return methods;
}

describe('gRPC method coverage', () => {
  it('finds the public services', () => {
    const services = new Set(publicMethods().map((m) => m.path.split('/')[1]));
    expect(publicMethods().length).toBeGreaterThanOrEqual(25);
    expect([...services]).toEqual(expect.arrayContaining(['skein.v1.WorkflowService', 'skein.v1.RunService', 'skein.v1.LogService', 'skein.v1.TemplateService']));
  });

  it('has a test calling every method', () => {
    const sources = testFiles(path.join(APPS)).filter((file) => file.includes(`${path.sep}src${path.sep}`)).map((file) => readFileSync(file, 'utf8'));
    const untested = publicMethods()
      .filter(({ clientMethod }) => !sources.some((source) => new RegExp(`\\.${clientMethod}(\\.bind)?\\(`).test(source)))
      .map(({ path: methodPath }) => methodPath);
    expect(untested).toEqual([]);
  });
});
