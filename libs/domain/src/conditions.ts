/**
 * `when:` conditions, evaluated on the rendered text: either a value — false when empty, `false`, `0`,
 * `no`, `off`, `null` or `none` (any case), true otherwise — or one comparison `A op B` with `==`,
 * `!=`, `<`, `<=`, `>`, `>=`, numeric when both sides are numbers and textual otherwise.
 */

const COMPARISON = /^(.*?)\s*(==|!=|<=|>=|<|>)\s*(.*)$/s;
const FALSY = new Set(['', 'false', '0', 'no', 'off', 'null', 'none']);

function unquote(text: string): string {
  const t = text.trim();
  return t.length >= 2 && ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) ? t.slice(1, -1) : t;
}

/** True when the rendered condition holds. */
export function evaluateCondition(rendered: string): boolean {
  const match = COMPARISON.exec(rendered.trim());
  if (!match) return !FALSY.has(unquote(rendered).toLowerCase());
  const [, leftText = '', op, rightText = ''] = match;
  const left = unquote(leftText);
  const right = unquote(rightText);
  const numeric = left !== '' && right !== '' && Number.isFinite(Number(left)) && Number.isFinite(Number(right));
  const a: number | string = numeric ? Number(left) : left;
  const b: number | string = numeric ? Number(right) : right;
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    default: return a >= b;
  }
}
