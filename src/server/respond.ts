/** JSON answers outside GraphQL (health, readiness, refusals, webhooks): never cached. */
import type http from 'node:http';

/** Writes the status and headers of a JSON answer; the serialised body to send. */
function jsonHead(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders): string {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  return payload;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  res.end(jsonHead(res, status, body, headers));
}

/** After a refusal, the rest of a request's body is read and discarded at most this much, for at most this long. */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DISCARD_MAX_MS = 5_000;

/**
 * Answers a request refused before its body was read (413, 411) and closes its connection once the client has
 * finished sending. Closing a socket with unread data sends a reset, which makes the client's kernel drop the
 * answer it has not read yet: the client would see EPIPE or ECONNRESET instead of the refusal. The rest of the
 * body is read and discarded, within DISCARD_MAX_BYTES and DISCARD_MAX_MS; a client sending more or longer is cut.
 */
export function refuseUnread(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown): void {
  res.write(jsonHead(res, status, body, { connection: 'close' }));
  if (req.complete) return void res.end();
  let discarded = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, DISCARD_MAX_MS).unref();
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_MAX_BYTES) cut();
  });
  req.once('end', () => res.end());
  req.once('close', () => clearTimeout(timer));
  req.resume();
}
