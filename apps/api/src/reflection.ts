import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/**
 * Server reflection (grpcurl, Postman, evans) needs the .proto descriptors, which ts-proto's generated
 * code does not carry; they are loaded from the repository's proto/ directory, next to which the
 * service runs both from source and from dist/.
 */

const PUBLIC_PROTO_DIR = path.join('skein', 'v1');

/**
 * The directory holding `skein/v1/*.proto`: the first of `<dir>/proto` walking up from each start
 * directory. Undefined when there is none (e.g. an image built without proto/).
 */
export function findProtoDir(starts: readonly string[] = [__dirname, process.cwd()]): string | undefined {
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      const candidate = path.join(dir, 'proto');
      if (existsSync(path.join(candidate, PUBLIC_PROTO_DIR))) return candidate;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

/** node_modules/google-proto-files (google/rpc/*.proto), if installed. */
function findGoogleProtoDir(protoDir: string): string | undefined {
  try {
    return path.dirname(require.resolve('google-proto-files/package.json', { paths: [protoDir, __dirname] }));
  } catch {
    return undefined;
  }
}

/**
 * The reflection service for the public API, health checking and the rich error model, or
 * undefined when the .proto files cannot be found.
 */
export function createReflectionService(protoDir: string | undefined = findProtoDir()): ReflectionService | undefined {
  if (!protoDir) return undefined;
  // Files are named relative to their include directory, as they import each other: reflection
  // clients resolve dependencies by these names.
  const files = readdirSync(path.join(protoDir, PUBLIC_PROTO_DIR))
    .filter((f) => f.endsWith('.proto')).sort().map((f) => `skein/v1/${f}`);
  const healthRoot = path.resolve(path.dirname(healthProtoPath), '..', '..');
  files.push(path.relative(healthRoot, healthProtoPath).split(path.sep).join('/'));
  const includeDirs = [protoDir, healthRoot];
  const googleDir = findGoogleProtoDir(protoDir);
  if (googleDir) {
    includeDirs.push(googleDir);
    // So that clients can decode grpc-status-details-bin by reflection alone.
    files.push('google/rpc/status.proto', 'google/rpc/error_details.proto');
  }
  const definition = protoLoader.loadSync(files, { includeDirs, keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  return new ReflectionService(definition);
}
