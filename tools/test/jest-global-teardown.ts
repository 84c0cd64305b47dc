export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __skeinPostgres?: { stop(): Promise<void> } }).__skeinPostgres;
  if (server) await server.stop();
}
