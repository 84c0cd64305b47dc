import { createRedactor } from './redactor';

describe('createRedactor', () => {
  it('leaves text alone when there are no secrets', () => {
    const redact = createRedactor([{ name: 'A', value: 'visible', secret: false }]);
    expect(redact('visible text')).toBe('visible text');
  });

  it('replaces every occurrence of every secret value', () => {
    const redact = createRedactor([
      { name: 'TOKEN', value: 's3cr3t', secret: true },
      { name: 'PASSWORD', value: 'hunter2', secret: true },
      { name: 'EMPTY', value: '', secret: true },
    ]);
    expect(redact('token=s3cr3t password=hunter2 again s3cr3t')).toBe('token=*** password=*** again ***');
  });

  it('hides a secret that contains another secret whole', () => {
    const redact = createRedactor([
      { name: 'SHORT', value: 'abc', secret: true },
      { name: 'LONG', value: 'xxabcxx', secret: true },
    ]);
    expect(redact('v=xxabcxx')).toBe('v=***');
  });

  it('redacts each line of a multi-line secret', () => {
    const redact = createRedactor([{ name: 'KEY', value: '-----BEGIN KEY-----\nAAAAsecretline\n-----END KEY-----', secret: true }]);
    expect(redact('AAAAsecretline')).toBe('***');
  });

  it('redacts values added later (Kubernetes Secret values), longest first, with the env ones', () => {
    const redact = createRedactor([{ name: 'TOKEN', value: 'tok', secret: true }]);
    expect(redact('pw=db-pass tok')).toBe('pw=db-pass ***');
    redact.add(['db-pass', '', 'line-one\nline-two', 'xtokx']);
    expect(redact('pw=db-pass tok xtokx')).toBe('pw=*** *** ***');
    expect(redact('line-two')).toBe('***');
    expect(redact('nothing secret')).toBe('nothing secret');
  });
});
