import type { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { MAX_BODY_BYTES } from '../common/json-body.js';
import type { AppConfig } from '../config/configuration.js';
import { InternalTcpServer } from './internal-tcp.server.js';

/**
 * Largest frame accepted, in characters: a REST body's limit plus room for the envelope (pattern,
 * id, token). A larger frame closes that connection; nothing is buffered beyond it.
 */
export const MAX_FRAME_CHARS = MAX_BODY_BYTES + 4096;
/** A peer that stops in the middle of a frame loses its connection after this long. */
const INCOMPLETE_FRAME_TIMEOUT_MS = 10_000;
/**
 * Answers queued for a peer that does not read them, beyond which its connection is closed (Nest's
 * default is 128 MB). Room for a few exec answers at SSH_MAX_OUTPUT_BYTES; see docs/deploy.md.
 */
export const MAX_SEND_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * Attaches the TCP transport to the HTTP application (a hybrid application) when INTERNAL_TCP_PORT
 * is not 0, and starts it. It shares the app's guard, pipe and filter (inheritAppConfig), so a
 * message is authenticated, validated and answered like a request; `app.close()` (the graceful
 * shutdown) closes it after the pool has drained. Call after `init()`. Returns the port, or null.
 */
export async function startInternalTransport(app: INestApplication): Promise<number | null> {
  const config = app.get(ConfigService<AppConfig, true>);
  const { host, internalTcpPort } = config.get('http', { infer: true });
  if (internalTcpPort === 0) return null;
  const { tcpMaxConnections, idleTimeoutMs, maxInFlight } = config.get('edge', { infer: true });
  app.connectMicroservice<MicroserviceOptions>(
    {
      strategy: new InternalTcpServer(
        {
          host,
          port: internalTcpPort,
          maxBufferSize: MAX_FRAME_CHARS,
          incompleteMessageTimeout: INCOMPLETE_FRAME_TIMEOUT_MS,
          maxSendBufferSize: MAX_SEND_BUFFER_BYTES,
        },
        { maxConnections: tcpMaxConnections, idleTimeoutMs, maxInFlight },
      ),
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  return internalTcpPort;
}
