/**
 * The `filter` of ListWorkflows: a subset of AIP-160 — comparisons joined by `AND`:
 *
 *   labels.team = "data"        a label's value (`!=` too)
 *   labels.team:*               the label is set
 *   paused = true               paused or not
 *   scheduled = true            has a schedule or not
 *   workflow_id = "etl"         (`!=` too)
 *
 * Values are quoted strings, or `true`/`false` for the booleans. Parsing never throws: problems come back
 * as messages that name the term, for an INVALID_ARGUMENT on `filter`.
 */
import { labelKeyProblem } from './names';

export type WorkflowFilterTerm =
  | { readonly kind: 'label'; readonly key: string; readonly op: '=' | '!='; readonly value: string }
  | { readonly kind: 'hasLabel'; readonly key: string }
  | { readonly kind: 'paused' | 'scheduled'; readonly value: boolean }
  | { readonly kind: 'id'; readonly op: '=' | '!='; readonly value: string };

/** The longest filter accepted. */
export const MAX_FILTER_LENGTH = 1000;

const TERM = /^\s*([A-Za-z_][A-Za-z0-9_.\-/]*)\s*(=|!=|:)\s*("(?:[^"\\]|\\.)*"|\*|true|false)\s*$/;

/** Splits on `AND` outside quotes. */
function splitAnd(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (!quoted && /^\sAND\s/.test(text.slice(i, i + 5))) {
      parts.push(current);
      current = '';
      i += 4;
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts;
}

/** The terms of a filter (empty: everything), or what is wrong with it. */
export function parseWorkflowFilter(filter: string): { terms: WorkflowFilterTerm[] } | { problem: string } {
  if (filter.trim() === '') return { terms: [] };
  if (filter.length > MAX_FILTER_LENGTH) return { problem: `is longer than ${MAX_FILTER_LENGTH} characters` };
  const terms: WorkflowFilterTerm[] = [];
  for (const part of splitAnd(filter)) {
    const m = TERM.exec(part);
    const shown = JSON.stringify(part.trim().slice(0, 100));
    if (!m) return { problem: `cannot read ${shown}: expected FIELD = "value", FIELD != "value", labels.KEY:* or paused|scheduled = true|false, joined by AND` };
    const [, field, op, raw] = m as unknown as [string, string, '=' | '!=' | ':', string];
    const text = raw.startsWith('"') ? (JSON.parse(raw) as string) : undefined;
    if (field.startsWith('labels.')) {
      const key = field.slice('labels.'.length);
      const keyProblem = labelKeyProblem(key);
      if (keyProblem !== undefined) return { problem: `${shown}: label key ${keyProblem}` };
      if (op === ':' && raw === '*') terms.push({ kind: 'hasLabel', key });
      else if (op !== ':' && text !== undefined) terms.push({ kind: 'label', key, op, value: text });
      else return { problem: `${shown}: a label is compared with = or != to a quoted string, or tested with labels.KEY:*` };
    } else if (field === 'paused' || field === 'scheduled') {
      if (op !== '=' || (raw !== 'true' && raw !== 'false')) return { problem: `${shown}: ${field} takes = true or = false` };
      terms.push({ kind: field, value: raw === 'true' });
    } else if (field === 'workflow_id' || field === 'workflowId') {
      if (op === ':' || text === undefined) return { problem: `${shown}: workflow_id is compared with = or != to a quoted string` };
      terms.push({ kind: 'id', op, value: text });
    } else {
      return { problem: `${shown}: unknown field ${JSON.stringify(field)}; filterable: labels.KEY, paused, scheduled, workflow_id` };
    }
  }
  return { terms };
}
