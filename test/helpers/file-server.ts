import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the test server saw it. */
export interface LoggedRequest {
  method: string;
  path: string;
  range: string | undefined;
  ifRange: string | undefined;
  authorization: string | undefined;
  host: string | undefined;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => void | Promise<void>;

export interface TestServer {
  /** http://HOST:PORT (no trailing slash). */
  origin: string;
  requests: LoggedRequest[];
  /** Total body bytes written to clients so far. */
  bytesSent: () => number;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback whose answers the test scripts request by
 * request (index 0, 1, ...). Everything it receives is logged, so tests can
 * assert what the downloader sent: Range, If-Range, Authorization.
 */
export async function startServer(handler: Handler, host = '127.0.0.1'): Promise<TestServer> {
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  let sent = 0;
  const server: Server = createServer((req, res) => {
    const index = requests.length;
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      range: req.headers.range,
      ifRange: req.headers['if-range'] as string | undefined,
      authorization: req.headers.authorization,
      host: req.headers.host,
    });
    const write = res.write.bind(res) as (chunk: Buffer, cb?: () => void) => boolean;
    res.write = ((chunk: Buffer, ...rest: unknown[]) => {
      sent += chunk.length;
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    void Promise.resolve(handler(req, res, index)).catch((error) => {
      res.destroy(error as Error);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    bytesSent: () => sent,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ServeOptions {
  /** Honour Range (206); false answers every request with the whole file (200). */
  ranges?: boolean;
  etag?: string;
  /** Send this many body bytes of the answer, then cut the connection. */
  dropAfter?: number;
  /** Send this many body bytes of the answer, then go silent (connection left open). */
  stallAfter?: number;
  /** Pause between 64 kB chunks, to make a transfer take a while. */
  chunkDelayMs?: number;
}

/**
 * Serves `data` the way a file server does: 200 with the whole file, or 206
 * for `Range: bytes=N-` (only while If-Range, when sent, matches the ETag).
 */
export async function serveBytes(req: IncomingMessage, res: ServerResponse, data: Buffer, options: ServeOptions = {}): Promise<void> {
  const ranges = options.ranges ?? true;
  const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' };
  if (options.etag) headers.etag = options.etag;
  if (ranges) headers['accept-ranges'] = 'bytes';
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'] as string | undefined;
  if (ranges && range && (ifRange === undefined || ifRange === options.etag)) {
    start = Number(range[1]);
    if (start >= data.length) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { ...headers, 'content-length': data.length - start, 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` });
  } else {
    res.writeHead(200, { ...headers, 'content-length': data.length });
  }
  const body = data.subarray(start);
  const limit = options.dropAfter ?? options.stallAfter ?? body.length;
  const chunk = 64 * 1024;
  for (let at = 0; at < Math.min(limit, body.length); at += chunk) {
    const piece = body.subarray(at, Math.min(at + chunk, limit, body.length));
    if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
    if (options.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, options.chunkDelayMs));
    if (res.destroyed) return;
  }
  if (options.dropAfter !== undefined && options.dropAfter < body.length) {
    // Let the bytes reach the client, then cut the connection mid-body.
    await new Promise((resolve) => setTimeout(resolve, 50));
    res.socket?.destroy();
    return;
  }
  if (options.stallAfter !== undefined && options.stallAfter < body.length) return; // silent until the client gives up
  res.end();
}

/** Random test data and its SHA-256, computed here with node:crypto (not by the code under test). */
export function testFile(bytes: number): { data: Buffer; sha256: string } {
  const data = randomBytes(bytes);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
}

export function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
