/** Real graphql-ws and SSE clients for subscription tests, collecting every message a subscription receives. */
import { createClient as createSseClient } from 'graphql-sse';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TypedDocumentString } from '../graphql/generated/graphql';
import type { GraphQLErrorBody } from './graphql';

export interface Message<T> {
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

export interface Subscription<T> {
  messages: Array<Message<T>>;
  /** Resolves when the server completes the subscription (or it errors). */
  ended: Promise<{ error?: unknown }>;
  /** Waits until a message matches (the newest message is checked first). */
  waitFor(predicate: (message: Message<T>) => boolean, timeoutMs?: number): Promise<Message<T>>;
  unsubscribe(): void;
}

function collect<T>(
  start: (sink: { next(m: Message<T>): void; error(e: unknown): void; complete(): void }) => () => void,
): Subscription<T> {
  const messages: Array<Message<T>> = [];
  const waiters = new Set<() => void>();
  let finish!: (result: { error?: unknown }) => void;
  const ended = new Promise<{ error?: unknown }>((resolve) => (finish = resolve));
  const wake = () => waiters.forEach((waiter) => waiter());
  const unsubscribe = start({
    next: (message) => {
      messages.push(message);
      wake();
    },
    error: (error) => {
      finish({ error });
      wake();
    },
    complete: () => {
      finish({});
      wake();
    },
  });
  return {
    messages,
    ended,
    unsubscribe,
    waitFor(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = messages.find(predicate);
          if (match) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
        // Once the subscription has ended no message can come: fail at once instead of at the timeout.
        void ended.then((result) => {
          if (!waiters.has(check)) return;
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`ended without a matching message (${JSON.stringify(result.error)}); got ${JSON.stringify(messages)}`));
        });
      });
    },
  };
}

/** A graphql-ws client authenticated through connectionParams. */
export function wsClient(url: string, token: string, extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    ...extra,
  });
}

export function subscribeWs<T, V>(client: Client, document: TypedDocumentString<T, V>, variables: V): Subscription<T> {
  return collect<T>((sink) =>
    client.subscribe<T>(
      { query: document.toString(), variables: variables as Record<string, unknown> },
      {
        next: (m) => sink.next(m as Message<T>),
        error: (e) => sink.error(e),
        complete: () => sink.complete(),
      },
    ),
  );
}

/** GraphQL over SSE (yoga's distinct-connections mode), as a graphql-sse client does it. */
export function subscribeSse<T, V>(baseUrl: string, token: string, document: TypedDocumentString<T, V>, variables: V): Subscription<T> {
  const client = createSseClient({ url: `${baseUrl}/graphql`, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  return collect<T>((sink) => {
    const stop = client.subscribe<T>(
      { query: document.toString(), variables: variables as Record<string, unknown> },
      {
        next: (m) => sink.next(m as Message<T>),
        error: (e) => sink.error(e),
        complete: () => sink.complete(),
      },
    );
    return () => {
      stop();
      client.dispose();
    };
  });
}

/**
 * Opens a raw WebSocket, sends connection_init with `payload`, and resolves with how the connection ended:
 * the server's close code, or (with `closeAfterAck`) 1000 after this side closes it once acknowledged.
 */
export function rawConnect(
  url: string,
  payload: Record<string, unknown> | undefined,
  headers: Record<string, string> = {},
  { closeAfterAck = false, localAddress }: { closeAfterAck?: boolean; localAddress?: string } = {},
) {
  return new Promise<{ code: number; reason: string; acked: boolean }>((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { headers, localAddress });
    let acked = false;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload })));
    socket.on('message', (data) => {
      if ((JSON.parse(Buffer.from(data as Buffer).toString('utf8')) as { type: string }).type !== 'connection_ack') return;
      acked = true;
      if (closeAfterAck) socket.close(1000, 'done');
    });
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString(), acked }));
    socket.on('error', reject);
  });
}

/** A graphql-ws connection acknowledged by the server (or the close that refused it), kept open. */
export function openConnection(url: string, token: string): Promise<{ socket: WebSocket } | { code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      if ((JSON.parse(Buffer.from(data as Buffer).toString('utf8')) as { type: string }).type === 'connection_ack') resolve({ socket });
    });
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.on('error', reject);
  });
}

/** Closes every client (graphql-ws' dispose may or may not return a promise). */
export const disposeAll = (clients: readonly Client[]) => Promise.all(clients.map((client) => Promise.resolve(client.dispose())));
