import { z } from 'zod';
import { ConfigError, fields, loadConfig } from './index';

describe('loadConfig', () => {
  const schema = z.object({
    DATABASE_URL: fields.databaseUrl,
    NATS_URL: fields.natsUrl,
    GRPC_PORT: fields.port(7070),
  });

  it('applies defaults and coerces numbers', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgres://a@localhost/b', GRPC_PORT: '7171' }, 'api');
    expect(config).toEqual({ DATABASE_URL: 'postgres://a@localhost/b', NATS_URL: 'nats://127.0.0.1:4222', GRPC_PORT: 7171 });
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig(schema, { GRPC_PORT: 'seventy' }, 'api')).toThrow(ConfigError);
    try {
      loadConfig(schema, { GRPC_PORT: 'seventy' }, 'api');
    } catch (err) {
      expect((err as Error).message).toMatch(/api: invalid configuration/);
      expect((err as Error).message).toMatch(/DATABASE_URL: is required/);
      expect((err as Error).message).toMatch(/GRPC_PORT:/);
    }
  });

  it('takes host:port or a gRPC target naming several replicas for a service address', () => {
    const target = z.object({ SCHEDULER_ADDRESS: fields.target('127.0.0.1:7071') });
    for (const ok of ['scheduler:7071', 'dns:///scheduler.skein.svc:7071', 'dns:scheduler:7071', 'ipv4:10.0.0.5:7071,10.0.0.6:7071', 'unix:/run/skein.sock']) {
      expect(loadConfig(target, { SCHEDULER_ADDRESS: ok }, 'api').SCHEDULER_ADDRESS).toBe(ok);
    }
    expect(() => loadConfig(target, { SCHEDULER_ADDRESS: 'scheduler' }, 'api')).toThrow(/SCHEDULER_ADDRESS.*must be host:port or a gRPC target/);
    expect(() => loadConfig(target, { SCHEDULER_ADDRESS: 'a:1,b:2' }, 'api')).toThrow(/SCHEDULER_ADDRESS/);
  });
});
