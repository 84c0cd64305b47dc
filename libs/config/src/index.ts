export { loadConfig } from './load-config';
export { ConfigError } from './errors';
export { fields } from './fields';
export { Shutdown, type ShutdownHook, type ShutdownOptions } from './shutdown';
export { listenGrpc, stopGrpc } from './grpc-server';
export { bearerTokenInterceptor, createInternalGrpcServer, internalTokenInterceptor } from './bearer-auth';
