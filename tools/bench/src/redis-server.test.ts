// The redis-server that `compare` starts for BullMQ: listening, with the AOF fsync policy the comparison states.
import net from 'node:net';
import { startRedisServer } from '@skein/testing';

/** Sends one inline command and resolves with the raw reply. */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      reply += d;
      if (reply.endsWith('\r\n') && (reply.startsWith('+') || reply.split('\r\n').length >= 6)) { socket.end(); resolve(reply); }
    });
    socket.once('error', reject);
    socket.write(`${line}\r\n`);
  });
}

test('startRedisServer starts redis-server with appendonly and appendfsync everysec, and stops it', async () => {
  const redis = await startRedisServer();
  try {
    expect(await command(redis.port, 'PING')).toBe('+PONG\r\n');
    expect(await command(redis.port, 'CONFIG GET appendfsync')).toContain('everysec');
    expect(await command(redis.port, 'CONFIG GET appendonly')).toContain('yes');
  } finally {
    await redis.stop();
  }
});
