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
});
