import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseWorkflowFile } from './parse-workflow';
import type { PoolSpec } from './pool';
import type { TaskTemplateSpec } from './task-template';

const examples = path.join(__dirname, '..', '..', '..', 'examples');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(full);
    return /\.(ya?ml|json)$/.test(entry.name) ? [full] : [];
  });
}

describe('examples/', () => {
  // Every example is valid, with the templates and pools of the whole directory known (as `skein apply -f
  // examples/` applies them first), so a change to the format cannot silently break the documentation.
  const files = yamlFiles(examples).map((file) => ({ file, source: readFileSync(file, 'utf8') }));
  const templates = new Map<string, TaskTemplateSpec>();
  const pools = new Map<string, PoolSpec>();
  for (const { file, source } of files) {
    const parsed = parseWorkflowFile(source, path.relative(examples, file));
    for (const t of parsed.templates) templates.set(t.spec.metadata.name, t.spec);
    for (const p of parsed.pools) pools.set(p.spec.metadata.name, p.spec);
  }

  it.each(files.map(({ file, source }) => [path.relative(examples, file), source] as const))('%s is valid', (name, source) => {
    const parsed = parseWorkflowFile(source, name, {
      templates: (n) => templates.get(n), templateNames: () => [...templates.keys()],
      pools: (n) => pools.get(n), poolNames: () => [...pools.keys()],
    });
    expect(parsed.errors).toEqual([]);
    expect(parsed.workflows.length + parsed.templates.length + parsed.pools.length).toBeGreaterThan(0);
  });
});
