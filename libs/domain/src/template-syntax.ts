/**
 * The template language of task fields: `{{ params.NAME }}`, `{{ run.id }}`, `{{ run.logicalDate }}`,
 * `{{ run.workflow }}`, `{{ tasks.TASK.outputs.KEY }}`, and `{{ "text" }}` for literal text such as
 * a `{{` the shell needs. Parsing and parse-time checks live here; rendering is in templates.ts.
 */
import { isDnsLabel, isIdentifier } from './names';
import { closestMatch, didYouMean } from './suggest';

/** The fields of `run` a template may read. */
export const RUN_TEMPLATE_FIELDS = ['id', 'logicalDate', 'workflow', 'dataInterval.start', 'dataInterval.end'] as const;

/** A field of `run` a template may read. */
export type RunTemplateField = (typeof RUN_TEMPLATE_FIELDS)[number];

/** One `{{ ... }}` expression, parsed. */
export type TemplateExpression =
  | { readonly kind: 'param'; readonly name: string; readonly path?: readonly string[] }
  | { readonly kind: 'run'; readonly field: RunTemplateField }
  | { readonly kind: 'output'; readonly task: string; readonly key: string }
  | { readonly kind: 'literal'; readonly text: string };

/** A piece of a template: literal text, or an expression with the source text it came from. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'expression'; readonly expression: TemplateExpression; readonly source: string };

/** A parsed template: its parts, and what is wrong with it (empty when valid). */
export interface ParsedTemplate {
  readonly parts: readonly TemplatePart[];
  readonly problems: readonly string[];
}

const OUTPUT_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const LITERAL = /^"([^"]*)"$/;
const FORMS = 'params.NAME, run.id, run.logicalDate, run.workflow, run.dataInterval.start, run.dataInterval.end or tasks.TASK.outputs.KEY';

/** True if `text` contains template syntax, so plain strings can skip parsing. */
export function hasTemplate(text: string): boolean {
  return text.includes('{{');
}

function parseExpression(inner: string): TemplateExpression | string {
  const literal = LITERAL.exec(inner);
  if (literal) return { kind: 'literal', text: literal[1] ?? '' };
  if (inner === '') return 'empty template expression "{{ }}"';
  const segments = inner.split('.');
  const [root, second, third, fourth] = segments;
  const quoted = JSON.stringify(inner);
  switch (root) {
    case 'params':
      if (segments.length === 2 && second !== undefined && isIdentifier(second)) return { kind: 'param', name: second };
      // An object param's keys: `params.filters.region`.
      if (segments.length > 2 && second !== undefined && isIdentifier(second) && segments.slice(2).every((k) => OUTPUT_KEY.test(k))) {
        return { kind: 'param', name: second, path: segments.slice(2) };
      }
      return `invalid template expression ${quoted}: expected params.NAME (or params.NAME.KEY for an object param)`;
    case 'run':
      {
        const field = segments.slice(1).join('.');
        if ((RUN_TEMPLATE_FIELDS as readonly string[]).includes(field)) return { kind: 'run', field: field as RunTemplateField };
        return `unknown run field in ${quoted}${didYouMean(field, RUN_TEMPLATE_FIELDS)}: expected run.id, run.logicalDate, run.workflow, run.dataInterval.start or run.dataInterval.end`;
      }
    case 'tasks':
      if (segments.length === 4 && third === 'outputs' && isDnsLabel(second ?? '') && OUTPUT_KEY.test(fourth ?? '')) {
        return { kind: 'output', task: second as string, key: fourth as string };
      }
      return `invalid template expression ${quoted}: expected tasks.TASK.outputs.KEY`;
    default: {
      const match = closestMatch(root ?? '', ['params', 'run', 'tasks']);
      const suggestion = match === undefined ? '' : ` (did you mean ${JSON.stringify([match, ...segments.slice(1)].join('.'))}?)`;
      return `unknown template expression ${quoted}${suggestion}: expected ${FORMS}`;
    }
  }
}

/** Splits a string into text and `{{ ... }}` expressions, collecting every problem. */
export function parseTemplate(text: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  const problems: string[] = [];
  let index = 0;
  while (index < text.length) {
    const open = text.indexOf('{{', index);
    if (open === -1) {
      parts.push({ kind: 'text', text: text.slice(index) });
      break;
    }
    if (open > index) parts.push({ kind: 'text', text: text.slice(index, open) });
    const close = text.indexOf('}}', open + 2);
    if (close === -1) {
      problems.push(`unterminated "{{" in ${JSON.stringify(text)} (write {{ "{{" }} for a literal "{{")`);
      parts.push({ kind: 'text', text: text.slice(open) });
      break;
    }
    const source = text.slice(open, close + 2);
    const expression = parseExpression(text.slice(open + 2, close).trim());
    if (typeof expression === 'string') problems.push(expression);
    else parts.push({ kind: 'expression', expression, source });
    index = close + 2;
  }
  return { parts, problems };
}

/** What a template may refer to at the place it is written. */
export interface TemplateScope {
  /** Names of the workflow's declared params. */
  readonly params: readonly string[];
  /** The task the template belongs to. */
  readonly task: string;
  /** Every task in the workflow. */
  readonly tasks: readonly string[];
  /** Tasks upstream of `task`, directly or transitively: the only ones whose outputs exist when it starts. */
  readonly upstream: ReadonlySet<string>;
  /**
   * How many more unknown task names get a "did you mean" (each compares with every task name),
   * shared across a file's templates; counted down here. Unbounded when absent.
   */
  readonly suggestions?: { remaining: number };
}

/**
 * Every problem with a template string at parse time: bad syntax, an undeclared param, a task that
 * does not exist or is not upstream of the task the template belongs to.
 */
export function templateProblems(text: string, scope: TemplateScope): string[] {
  if (!hasTemplate(text)) return [];
  const { parts, problems } = parseTemplate(text);
  const out = [...problems];
  for (const part of parts) {
    if (part.kind !== 'expression') continue;
    const e = part.expression;
    if (e.kind === 'param' && !scope.params.includes(e.name)) {
      out.push(`${part.source} refers to undeclared param ${JSON.stringify(e.name)}${didYouMean(e.name, scope.params)}`);
    } else if (e.kind === 'output') {
      if (e.task === scope.task) {
        out.push(`${part.source}: a task cannot read its own outputs`);
      } else if (!scope.tasks.includes(e.task)) {
        const suggest = !scope.suggestions || scope.suggestions.remaining-- > 0;
        out.push(`${part.source} refers to unknown task ${JSON.stringify(e.task)}${suggest ? didYouMean(e.task, scope.tasks) : ''}`);
      } else if (!scope.upstream.has(e.task)) {
        out.push(
          `${part.source}: task ${JSON.stringify(e.task)} is not upstream of ${JSON.stringify(scope.task)}, so its outputs may not exist yet (add it to dependsOn)`,
        );
      }
    }
  }
  return out;
}
