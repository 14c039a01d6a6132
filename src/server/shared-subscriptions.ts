/**
 * `runUpdated` subscribers that ask the same thing share one execution: same document, operation, variables,
 * user and session (so authorisation and a session's revocation are never shared across either). The first
 * subscriber's stream is executed once per change; each result object goes to every member, which graphql-ws
 * or SSE then only has to encode. A member joining later gets the newest state sent so far at once, then
 * every later one, as its own subscription would have.
 *
 * Each member holds at most one undelivered state (a sliding buffer of one): a member whose socket drains
 * slowly skips to the newest state instead of queueing every intermediate one, and the stream's last
 * message (COMPLETED or FAILED) is the newest, so it is never the one skipped.
 *
 * Hand-written because no envelop or yoga plugin shares live executions between subscribers.
 */
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import { getOperationAST, Kind, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../schema/context';
import { subscriptionQuotaError } from '../schema/subscriptions';

const SHARED_FIELD = 'runUpdated';

interface Member {
  push(result: ExecutionResult): void;
  stop(error?: unknown): void;
}

class Broadcast {
  private readonly members = new Set<Member>();
  private latest: ExecutionResult | undefined;
  private started = false;
  done = false;

  constructor(
    private readonly source: AsyncIterator<ExecutionResult>,
    private readonly release: () => void,
  ) {}

  /** A member's own stream: the newest state so far, then each new one, until the source ends or it leaves. */
  join(): AsyncIterableIterator<ExecutionResult> {
    return new Repeater<ExecutionResult>(async (push, stop) => {
      if (this.latest) void push(this.latest);
      if (this.done) return stop();
      const member: Member = { push: (result) => void push(result), stop };
      this.members.add(member);
      if (!this.started) {
        this.started = true;
        void this.pump();
      }
      await stop;
      this.members.delete(member);
      if (this.members.size === 0 && !this.done) this.finish();
    }, new SlidingBuffer(1));
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const next = await this.source.next();
        if (next.done) break;
        this.latest = next.value;
        for (const member of this.members) member.push(next.value);
      }
      this.end();
    } catch (error) {
      this.end(error);
    }
  }

  private end(error?: unknown): void {
    this.finish();
    for (const member of [...this.members]) member.stop(error);
  }

  /** No new member joins from now on; the source is let go. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.release();
    void this.source.return?.();
  }
}

const printed = new WeakMap<DocumentNode, string>();
const textOf = (document: DocumentNode) => {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document)));
  return text;
};

/** The sharing key of a subscription to `runUpdated` alone, else undefined (not shared). */
function sharingKey(args: ExecutionArgs): string | undefined {
  const operation = getOperationAST(args.document, args.operationName);
  const [field, ...others] = operation?.selectionSet.selections ?? [];
  if (others.length || field?.kind !== Kind.FIELD || field.name.value !== SHARED_FIELD) return undefined;
  const ctx = args.contextValue as Context;
  return JSON.stringify([ctx.user.id, ctx.sessionId ?? null, args.operationName ?? null, textOf(args.document), args.variableValues ?? {}]);
}

const isAsyncIterator = (value: unknown): value is AsyncIterableIterator<ExecutionResult> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

export interface SharedSubscriptions {
  plugin: Plugin;
  /** Executions running for shared subscriptions (each serving one or more subscribers). */
  readonly executions: number;
}

export function sharedSubscriptions(): SharedSubscriptions {
  // Registered before the first subscriber's initial read finishes: subscribers arriving meanwhile (a
  // reconnect storm) wait for it and join, instead of each starting an execution of its own.
  const broadcasts = new Map<string, Promise<Broadcast | undefined>>();
  const live = new Set<Broadcast>();

  const start = async (
    key: string,
    subscribe: () => Promise<unknown>,
  ): Promise<ExecutionResult | AsyncIterableIterator<ExecutionResult>> => {
    let settle!: (broadcast: Broadcast | undefined) => void;
    const pending = new Promise<Broadcast | undefined>((resolve) => (settle = resolve));
    broadcasts.set(key, pending);
    let result: unknown;
    try {
      result = await subscribe();
    } finally {
      if (!isAsyncIterator(result)) {
        if (broadcasts.get(key) === pending) broadcasts.delete(key);
        settle(undefined);
      }
    }
    if (!isAsyncIterator(result)) return result as ExecutionResult;
    const broadcast = new Broadcast(result, () => {
      live.delete(broadcast);
      if (broadcasts.get(key) === pending) broadcasts.delete(key);
    });
    live.add(broadcast);
    settle(broadcast);
    return broadcast.join();
  };

  const plugin: Plugin = {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const key = sharingKey(args);
      if (!key) return;
      setSubscribeFn(async (subscribeArgs) => {
        const ctx = subscribeArgs.contextValue as Context;
        const shared = await broadcasts.get(key);
        // Nothing to join (none yet, or the first subscriber was refused): this one executes, and is shared.
        if (!shared || shared.done) return start(key, () => Promise.resolve(subscribeFn(subscribeArgs) as unknown));
        // A member counts against the user's limit like a subscription of its own.
        const refused = subscriptionQuotaError(ctx);
        if (refused) return { errors: [refused] };
        return releasing(shared.join(), ctx.events.hold(ctx.user.id));
      });
    },
  };
  return {
    plugin,
    get executions() {
      return live.size;
    },
  };
}

/** `stream`, calling `release` once when it ends, however it ends. */
function releasing(stream: AsyncIterableIterator<ExecutionResult>, release: () => void): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      const next = await stream.next().catch((error: unknown) => {
        release();
        throw error;
      });
      if (next.done) release();
      return next;
    },
    return(value?: unknown) {
      release();
      return stream.return!(value);
    },
    throw(error?: unknown) {
      release();
      return stream.throw!(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
