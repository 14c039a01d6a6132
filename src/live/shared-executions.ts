/**
 * `runUpdated` subscribers that ask the same thing share one execution: same document, operation, variables,
 * user, session and end of life (so authorisation, a session's revocation and an SSE stream's token expiry
 * are never shared across any of them). The first
 * subscriber's stream is executed once per change; each result object goes to every member, which graphql-ws
 * or SSE then only has to encode. A member joining later gets the newest state sent so far at once, then
 * every later one, as its own subscription would have.
 *
 * Each member holds at most one undelivered state (a newer one replaces it): a member whose socket drains
 * slowly skips to the newest state instead of queueing every intermediate one, and the stream's last
 * message (COMPLETED, FAILED or CANCELLED, or a deleted run's NOT_FOUND) is the newest, so it is never the one skipped.
 *
 * Hand-written because no envelop or yoga plugin shares live executions between subscribers.
 */
import { getOperationAST, GraphQLError, Kind, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable } from '@graphql-tools/utils';
import type { Plugin } from 'graphql-yoga';
import type { LiveContext } from './context';
import { NewestValue } from './newest-value';

const SHARED_FIELD = 'runUpdated';

/** One member's stream: the execution's newest result, skipping what its socket could not take in time. */
class Member extends NewestValue<ExecutionResult> {
  constructor(private readonly leave: (member: Member) => void) {
    super();
  }

  override return(): Promise<IteratorResult<ExecutionResult>> {
    const done = super.return();
    this.leave(this);
    return done;
  }
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
    const member = new Member((leaving) => {
      this.members.delete(leaving);
      if (this.members.size === 0 && !this.done) this.finish();
    });
    if (this.latest) member.push(this.latest);
    if (this.done) {
      member.stop();
      return member;
    }
    this.members.add(member);
    if (!this.started) {
      this.started = true;
      this.pump();
    }
    return member;
  }

  /**
   * Takes the source's next result and hands it to every member, until the source ends or nobody is left.
   * Promise callbacks rather than an async loop: a suspended loop's frame would be kept alive by every open execution.
   */
  private pump(): void {
    this.source.next().then(
      (next) => {
        if (next.done) return this.end();
        this.latest = next.value;
        for (const member of this.members) member.push(next.value);
        if (!this.done) this.pump();
      },
      (error: unknown) => this.end(error),
    );
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

/** A number per parsed document (yoga's parser cache hands the same one to every identical query). */
const documentIds = new WeakMap<DocumentNode, number>();
let lastDocumentId = 0;
const documentIdOf = (document: DocumentNode) => {
  let id = documentIds.get(document);
  if (id === undefined) documentIds.set(document, (id = ++lastDocumentId));
  return id;
};

/** The sharing key of a subscription to `runUpdated` alone, else undefined (not shared). */
function sharingKey(args: ExecutionArgs): string | undefined {
  const operation = getOperationAST(args.document, args.operationName);
  const [field, ...others] = operation?.selectionSet.selections ?? [];
  if (others.length || field?.kind !== Kind.FIELD || field.name.value !== SHARED_FIELD) return undefined;
  const ctx = args.contextValue as LiveContext;
  return JSON.stringify([
    ctx.user.id,
    ctx.sessionId,
    ctx.liveUntil ?? null,
    args.operationName ?? null,
    documentIdOf(args.document),
    args.variableValues ?? {},
  ]);
}

export interface SharedExecutions {
  plugin: Plugin;
  /** Executions running for shared subscriptions (each serving one or more subscribers). */
  readonly executions: number;
}

export function sharedExecutions(): SharedExecutions {
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
      if (!isAsyncIterable(result)) {
        if (broadcasts.get(key) === pending) broadcasts.delete(key);
        settle(undefined);
      }
    }
    if (!isAsyncIterable<ExecutionResult>(result)) return result as ExecutionResult;
    const broadcast = new Broadcast(result[Symbol.asyncIterator](), () => {
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
        const ctx = subscribeArgs.contextValue as LiveContext;
        const shared = await broadcasts.get(key);
        // Nothing to join (none yet, or the first subscriber was refused): this one executes, and is shared.
        if (!shared || shared.done) return start(key, () => Promise.resolve(subscribeFn(subscribeArgs) as unknown));
        // A member counts against the user's limit like a subscription of its own; a refusal is reported as
        // the field's own would be (the error table gives it its code).
        let release: () => void;
        try {
          release = ctx.services.subscriptionQuota.claim(ctx.user.id);
        } catch (error) {
          return { errors: [new GraphQLError((error as Error).message, { originalError: error as Error })] };
        }
        return new Releasing(shared.join(), release);
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

/** A member's stream that gives back its share of the user's limit once it ends, however it ends. */
class Releasing implements AsyncIterableIterator<ExecutionResult> {
  private released = false;

  constructor(
    private readonly stream: AsyncIterableIterator<ExecutionResult>,
    private readonly releaseHold: () => void,
  ) {}

  async next(): Promise<IteratorResult<ExecutionResult>> {
    try {
      const next = await this.stream.next();
      if (next.done) this.release();
      return next;
    } catch (error) {
      this.release();
      throw error;
    }
  }

  return(value?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.release();
    return this.stream.return!(value);
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.release();
    return this.stream.throw!(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseHold();
  }
}
