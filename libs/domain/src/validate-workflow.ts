/**
 * One YAML document → a normalised WorkflowSpec, collecting every issue. The top-level object,
 * metadata and the workflow-wide spec fields are checked here; tasks in validate-task.ts, the
 * relations between tasks in validate-graph.ts.
 */
import { asBoolean, asInteger, asMap, asSeq, asString, childPath, Fields, IssueList, itemPath } from './fields';
import { dnsLabelProblem, isIdentifier, labelKeyProblem, labelValueProblem } from './names';
import { PARAM_TYPES, paramValueProblem } from './params';
import { DEFAULT_TIMEZONE, isValidTimeZone, scheduleProblem } from './schedule';
import { closestMatch, didYouMean } from './suggest';
import { checkTaskGraph } from './validate-graph';
import { readDefaults, readDuration, readStrings, readTask, type TaskDraft } from './validate-task';
import type { TemplateLookup } from './task-template';
import { checkPoolRefs, type PoolLookup } from './pool';
import type { ParamSpec, ParamType, WorkflowSpec } from './workflow';
import type { TreeNode } from './yaml-tree';

/** The apiVersion every workflow file declares. */
export const API_VERSION = 'skein.dev/v1';
/** The most tasks one workflow may have. */
export const MAX_TASKS = 5000;
/** The longest per-workflow log retention, in days (100 years: "keep" without overflowing date arithmetic). */
export const MAX_LOG_RETENTION_DAYS = 36_500;

const KINDS = ['Workflow', 'TaskTemplate', 'Pool'];
const TOP_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec'];
const METADATA_FIELDS = ['name', 'labels'];
const SPEC_FIELDS = ['description', 'schedule', 'timezone', 'startDate', 'endDate', 'catchup', 'maxActiveRuns', 'maxActiveTasks', 'timeout', 'logRetentionDays', 'params', 'defaults', 'tasks'];
const PARAM_FIELDS = ['type', 'values', 'default', 'description'];
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** The instant of an RFC 3339 timestamp with a valid calendar date, or undefined. */
export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offsetOk = m[10] === undefined || (Number(m[10]) <= 23 && Number(m[11]) <= 59);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || !offsetOk) return undefined;
  const date = new Date(text.replace(' ', 'T'));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function readLabels(node: TreeNode, path: string, issues: IssueList): Record<string, string> {
  const labels: Record<string, string> = {};
  const map = asMap(node, path, issues);
  for (const entry of map?.entries ?? []) {
    const p = childPath(path, entry.key);
    const keyProblem = labelKeyProblem(entry.key);
    if (keyProblem !== undefined) issues.add(entry.keyPos, p, keyProblem);
    const value = asString(entry.value, p, issues);
    if (value === undefined) continue;
    const valueProblem = labelValueProblem(value);
    if (valueProblem !== undefined) issues.add(entry.value.pos, p, valueProblem);
    labels[entry.key] = value;
  }
  return labels;
}

/** A YAML node as plain JSON data (an object param's default). */
function plainValue(node: TreeNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(plainValue);
  return Object.fromEntries(node.entries.map((e) => [e.key, plainValue(e.value)]));
}

/** The valid params, and the names of all declared ones (valid or not) for template checks. */
function readParams(node: TreeNode, path: string, issues: IssueList): { params: Record<string, ParamSpec>; names: string[] } {
  const params: Record<string, ParamSpec> = {};
  const map = asMap(node, path, issues);
  const names = (map?.entries ?? []).map((e) => e.key);
  for (const entry of map?.entries ?? []) {
    const p = childPath(path, entry.key);
    if (!isIdentifier(entry.key)) {
      issues.add(entry.keyPos, p, `param name ${JSON.stringify(entry.key)} must be an identifier: letters, digits and '_', not starting with a digit`);
    }
    const paramMap = asMap(entry.value, p, issues);
    if (!paramMap) continue;
    const f = new Fields(paramMap, p, PARAM_FIELDS, ['type'], issues);
    const typeNode = f.getRequired('type');
    const typeText = typeNode && asString(typeNode, f.pathOf('type'), issues);
    let type: ParamType | undefined;
    if (typeText !== undefined && typeNode) {
      if ((PARAM_TYPES as readonly string[]).includes(typeText)) type = typeText as ParamType;
      else issues.add(typeNode.pos, f.pathOf('type'), `unknown param type ${JSON.stringify(typeText)}${didYouMean(typeText, PARAM_TYPES)}; expected one of ${PARAM_TYPES.join(', ')}`);
    }
    // An enum names its allowed values; no other type takes `values`.
    const valuesNode = f.get('values');
    let values: string[] | undefined;
    if (type === 'enum') {
      if (!valuesNode) issues.add(paramMap.pos, f.pathOf('values'), 'an enum param needs `values`: the list of allowed strings');
      else {
        values = (readStrings(valuesNode, f.pathOf('values'), issues) ?? []).map((site) => site.text);
        if (values.length === 0) issues.add(valuesNode.pos, f.pathOf('values'), 'must list at least one value');
        const dup = values.find((v, i) => values?.indexOf(v) !== i);
        if (dup !== undefined) issues.add(valuesNode.pos, f.pathOf('values'), `${JSON.stringify(dup)} is listed twice`);
      }
    } else if (valuesNode && type) {
      issues.add(valuesNode.pos, f.pathOf('values'), `only an enum param takes values (this one is ${type})`);
    }
    const defaultNode = f.get('default');
    let defaultValue: ParamSpec['default'];
    if (defaultNode && type) {
      const value = defaultNode.kind === 'scalar' ? defaultNode.value : type === 'object' && defaultNode.kind === 'map' ? plainValue(defaultNode) : undefined;
      const problem = defaultNode.kind === 'scalar' || (type === 'object' && defaultNode.kind === 'map') ? paramValueProblem(type, value, values)
        : `must be ${type === 'object' ? 'a mapping' : `a ${type}`}, got a ${defaultNode.kind === 'map' ? 'mapping' : 'list'}`;
      if (problem !== undefined) {
        const quote = type === 'string' && (typeof value === 'number' || typeof value === 'boolean') ? ` (quote it: "${String(value)}")` : '';
        issues.add(defaultNode.pos, f.pathOf('default'), `${problem}${quote}`);
      } else defaultValue = value as ParamSpec['default'];
    }
    const descriptionNode = f.get('description');
    const description = descriptionNode && asString(descriptionNode, f.pathOf('description'), issues);
    if (type) {
      params[entry.key] = {
        type, ...(values !== undefined && { values }), ...(defaultValue !== undefined && { default: defaultValue }),
        ...(description !== undefined && { description }),
      };
    }
  }
  return { params, names };
}

function readTimezone(node: TreeNode, path: string, issues: IssueList): string | undefined {
  const tz = asString(node, path, issues);
  if (tz === undefined || isValidTimeZone(tz)) return tz;
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  issues.add(node.pos, path, `unknown time zone ${JSON.stringify(tz)}${didYouMean(tz, known)}: use an IANA name such as "America/Chicago" or "UTC"`);
  return undefined;
}

/**
 * Validates one document and returns the normalised spec, or undefined if the document has any
 * issue (all of which are added to `issues`).
 */
export function validateWorkflowDocument(root: TreeNode, issues: IssueList, templates?: TemplateLookup, templateNames?: () => readonly string[],
  pools?: { readonly lookup: PoolLookup; readonly names: () => readonly string[] }): WorkflowSpec | undefined {
  const before = issues.count;
  const map = asMap(root, '', issues);
  if (!map) return undefined;
  // The kind decides which fields exist: check it before anything else.
  const kindNode = map.entries.find((e) => e.key === 'kind')?.value;
  const kind = kindNode && asString(kindNode, 'kind', issues);
  if (kindNode && kind !== undefined && !KINDS.includes(kind)) {
    issues.add(kindNode.pos, 'kind', `unsupported kind ${JSON.stringify(kind)}${didYouMean(kind, KINDS)}; expected "Workflow", "TaskTemplate" or "Pool"`);
    // A different kind of object has different fields: checking them as a workflow's is noise.
    if (closestMatch(kind, KINDS) === undefined) return undefined;
  }
  const top = new Fields(map, '', TOP_FIELDS, TOP_FIELDS, issues);
  const { name, labels } = readObjectHeader(top, issues);

  const specNode = top.getRequired('spec');
  const specMap = specNode && asMap(specNode, 'spec', issues);
  if (!specMap) return undefined;
  const s = new Fields(specMap, 'spec', SPEC_FIELDS, ['tasks'], issues);
  const str = (key: string) => {
    const node = s.get(key);
    return node && asString(node, s.pathOf(key), issues);
  };
  const description = str('description');
  const timezoneNode = s.get('timezone');
  const timezone = (timezoneNode && readTimezone(timezoneNode, s.pathOf('timezone'), issues)) ?? DEFAULT_TIMEZONE;
  const schedule = str('schedule');
  const scheduleNode = s.get('schedule');
  const problem = schedule === undefined ? undefined : scheduleProblem(schedule, timezone);
  if (scheduleNode && problem !== undefined) issues.add(scheduleNode.pos, s.pathOf('schedule'), problem);
  const startDateText = str('startDate');
  const startDate = startDateText === undefined ? undefined : parseRfc3339(startDateText);
  const startDateNode = s.get('startDate');
  if (startDateNode && startDateText !== undefined && startDate === undefined) {
    issues.add(startDateNode.pos, s.pathOf('startDate'), `${JSON.stringify(startDateText)} is not an RFC 3339 timestamp such as "2026-01-01T00:00:00Z"`);
  }
  const endDateText = str('endDate');
  const endDate = endDateText === undefined ? undefined : parseRfc3339(endDateText);
  const endDateNode = s.get('endDate');
  if (endDateNode && endDateText !== undefined && endDate === undefined) {
    issues.add(endDateNode.pos, s.pathOf('endDate'), `${JSON.stringify(endDateText)} is not an RFC 3339 timestamp such as "2026-12-31T00:00:00Z"`);
  }
  if (endDateNode && startDate && endDate && endDate <= startDate) {
    issues.add(endDateNode.pos, s.pathOf('endDate'), `endDate ${endDate.toISOString()} is not after startDate ${startDate.toISOString()}: no run would ever be scheduled`);
  }
  const catchupNode = s.get('catchup');
  const catchup = (catchupNode && asBoolean(catchupNode, s.pathOf('catchup'), issues)) ?? false;
  const maxActiveRunsNode = s.get('maxActiveRuns');
  const maxActiveRuns = maxActiveRunsNode && asInteger(maxActiveRunsNode, s.pathOf('maxActiveRuns'), issues, 1);
  const maxActiveTasksNode = s.get('maxActiveTasks');
  const maxActiveTasks = maxActiveTasksNode && asInteger(maxActiveTasksNode, s.pathOf('maxActiveTasks'), issues, 1);
  const timeoutNode = s.get('timeout');
  const timeoutMs = timeoutNode && readDuration(timeoutNode, s.pathOf('timeout'), issues);
  const logRetentionNode = s.get('logRetentionDays');
  const logRetentionDays = logRetentionNode && asInteger(logRetentionNode, s.pathOf('logRetentionDays'), issues, 0, MAX_LOG_RETENTION_DAYS);
  const paramsNode = s.get('params');
  const { params, names: paramNames } = paramsNode ? readParams(paramsNode, s.pathOf('params'), issues) : { params: {}, names: [] };
  const defaultsNode = s.get('defaults');
  const defaults = defaultsNode ? readDefaults(defaultsNode, s.pathOf('defaults'), issues) : { env: [] };

  const tasksNode = s.getRequired('tasks');
  const tasksSeq = tasksNode && asSeq(tasksNode, s.pathOf('tasks'), issues);
  const drafts: TaskDraft[] = [];
  if (tasksNode && tasksSeq) {
    if (tasksSeq.items.length === 0) issues.add(tasksNode.pos, s.pathOf('tasks'), 'a workflow needs at least one task');
    if (tasksSeq.items.length > MAX_TASKS) {
      issues.add(tasksNode.pos, s.pathOf('tasks'), `too many tasks: ${tasksSeq.items.length} (the limit is ${MAX_TASKS})`);
    }
    tasksSeq.items.forEach((item, i) => {
      const draft = readTask(item, itemPath(s.pathOf('tasks'), i), defaults, issues, templates, templateNames);
      if (draft) drafts.push(draft);
    });
  }
  checkTaskGraph(drafts, paramNames, issues);
  if (pools) checkPoolRefs(drafts.flatMap((d) => (d.poolRef ? [d.poolRef] : [])), pools.lookup, pools.names, issues);

  if (issues.count > before || name === undefined) return undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'Workflow',
    metadata: { name, labels },
    spec: {
      ...(description !== undefined && { description }),
      ...(schedule !== undefined && { schedule: schedule.trim().split(/\s+/).join(' ') }),
      timezone,
      ...(startDate !== undefined && { startDate: startDate.toISOString() }),
      ...(endDate !== undefined && { endDate: endDate.toISOString() }),
      catchup,
      ...(maxActiveRuns !== undefined && { maxActiveRuns }),
      ...(maxActiveTasks !== undefined && { maxActiveTasks }),
      ...(timeoutMs ? { timeoutMs } : {}),
      ...(logRetentionDays !== undefined && { logRetentionDays }),
      params,
      tasks: drafts.map((d) => d.spec),
    },
  };
}

/**
 * The header every Skein object has (Workflow, TaskTemplate): `apiVersion` (checked) and `metadata` with a
 * DNS-label `name` and optional `labels`. `name` is undefined when missing; an invalid one adds an issue.
 */
export function readObjectHeader(top: Fields, issues: IssueList): { name: string | undefined; labels: Record<string, string> } {
  const apiVersionNode = top.getRequired('apiVersion');
  const apiVersion = apiVersionNode && asString(apiVersionNode, 'apiVersion', issues);
  if (apiVersionNode && apiVersion !== undefined && apiVersion !== API_VERSION) {
    issues.add(apiVersionNode.pos, 'apiVersion', `unsupported apiVersion ${JSON.stringify(apiVersion)}; expected ${JSON.stringify(API_VERSION)}`);
  }
  const metadataNode = top.getRequired('metadata');
  const metadataMap = metadataNode && asMap(metadataNode, 'metadata', issues);
  const metadata = metadataMap && new Fields(metadataMap, 'metadata', METADATA_FIELDS, ['name'], issues);
  const nameNode = metadata?.getRequired('name');
  const name = nameNode && asString(nameNode, 'metadata.name', issues);
  const nameProblem = name === undefined ? undefined : dnsLabelProblem(name);
  if (nameNode && nameProblem !== undefined) issues.add(nameNode.pos, 'metadata.name', nameProblem);
  const labelsNode = metadata?.get('labels');
  return { name, labels: labelsNode ? readLabels(labelsNode, 'metadata.labels', issues) : {} };
}
