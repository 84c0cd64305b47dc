import { STREAMS, type StreamConfig } from './bus';

/*
 * NATS subject rules, shared by both bus implementations so that they agree on what matches:
 * tokens are separated by `.`; `*` matches exactly one token; `>` (last token only) matches one
 * or more tokens. Matching walks both strings in place: it runs on every in-process publish.
 */

/** True when `subject` (no wildcards) matches `pattern` (wildcards allowed). */
export function subjectMatches(pattern: string, subject: string): boolean {
  let p = 0;
  let s = 0;
  for (;;) {
    const pEnd = tokenEnd(pattern, p);
    const sEnd = tokenEnd(subject, s);
    const pLen = pEnd - p;
    if (pLen === 1 && pattern.charCodeAt(p) === GT) return s < subject.length;
    if (s >= subject.length) return false;
    if (!(pLen === 1 && pattern.charCodeAt(p) === STAR) && !sameToken(pattern, p, pEnd, subject, s, sEnd)) return false;
    const pDone = pEnd >= pattern.length;
    const sDone = sEnd >= subject.length;
    if (pDone || sDone) return pDone && sDone;
    p = pEnd + 1;
    s = sEnd + 1;
  }
}

/**
 * True when some subject matches both patterns. JetStream refuses two consumers whose filters
 * overlap on one work-queue stream; the in-process bus applies the same rule with this.
 */
export function subjectsOverlap(a: string, b: string): boolean {
  const at = a.split('.');
  const bt = b.split('.');
  for (let i = 0; ; i++) {
    const x = at[i];
    const y = bt[i];
    if (x === undefined || y === undefined) return x === y;
    if (x === '>' || y === '>') return true;
    if (x !== y && x !== '*' && y !== '*') return false;
  }
}

// Non-empty tokens without whitespace or wildcard characters: what a publish may use. One regex,
// no allocation, since it runs on every publish.
const LITERAL_SUBJECT = /^[^\s.*>]+(?:\.[^\s.*>]+)*$/;

/** A valid subject: non-empty tokens, no whitespace; wildcards only where `wildcards` allows. */
export function isValidSubject(subject: string, wildcards: boolean): boolean {
  if (!wildcards) return LITERAL_SUBJECT.test(subject);
  if (subject.length === 0 || /\s/.test(subject)) return false;
  const tokens = subject.split('.');
  return tokens.every((token, i) => {
    if (token.length === 0) return false;
    if (token === '>') return wildcards && i === tokens.length - 1;
    if (token === '*') return wildcards;
    return !token.includes('*') && !token.includes('>');
  });
}

const streamList: readonly StreamConfig[] = Object.values(STREAMS);

/** The stream that captures `subject`, if any. */
export function streamForSubject(subject: string): StreamConfig | undefined {
  for (const stream of streamList) {
    if (subjectMatches(stream.subjects, subject)) return stream;
  }
  return undefined;
}

const STAR = 42;
const GT = 62;

function tokenEnd(value: string, from: number): number {
  const dot = value.indexOf('.', from);
  return dot === -1 ? value.length : dot;
}

function sameToken(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) {
    if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  }
  return true;
}
