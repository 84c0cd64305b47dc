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
});
