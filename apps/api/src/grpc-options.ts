import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * The gRPC server's transport settings, chosen so that clients work with their defaults: tonic
 * (no keepalive pings by default; 20 s ping timeout when enabled; 4 MiB decode limit), elixir-grpc
 * (gun or Mint adapters; Mint pings every 10 s when keep-alive is on) and grpc-js/C-core clients. docs/clients.md explains each value.
 */

/** Largest request message accepted, in bytes (grpc-js's and most clients' default). */
export const MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * The server pings a connection this often, so a client that vanished without closing its socket
 * (a killed pod, a NAT that forgot the flow) is noticed and its WatchRun/TailLogs streams are released.
 * Well above what proxies allow idle (typically 60 s or more), well below the grpc-js default of 2 h.
 */
export const SERVER_KEEPALIVE_TIME_MS = 60_000;

/** How long a server ping may go unanswered before the connection is closed (tonic's and C-core's default). */
export const SERVER_KEEPALIVE_TIMEOUT_MS = 20_000;

/**
 * The most often a client may ping without data in flight. C-core's default (5 min) makes a server
 * answer a client that pings every 10-30 s — what tonic users enable with `http2_keep_alive_interval`,
 * and what elixir-grpc's Mint adapter does — with GOAWAY `too_many_pings`. grpc-js 1.14 does not police
 * client pings at all; the value is set so the policy holds if it starts to, or behind a C-core proxy.
 */
export const MIN_CLIENT_PING_INTERVAL_MS = 10_000;

export const GRPC_SERVER_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
  // Responses are not capped (grpc-js's default): a page of large specs may pass 4 MiB, and clients
  // that raised their decode limit as docs/clients.md advises must still get it.
  'grpc.keepalive_time_ms': SERVER_KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': SERVER_KEEPALIVE_TIMEOUT_MS,
  // Clients may keep an idle connection alive with pings (a WatchRun waiting on a quiet run has no data).
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': MIN_CLIENT_PING_INTERVAL_MS,
  // No max_connection_idle / max_connection_age: either would end long WatchRun and TailLogs streams
  // (after the grace period) and make elixir-grpc's gun connection reconnect; services behind a
  // Kubernetes Service that need rebalancing can set them on a proxy instead.
};
