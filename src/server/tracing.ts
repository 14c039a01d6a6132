/**
 * Spans for the GraphQL phases of every operation (HTTP, SSE and graphql-ws alike): parse, validate, building
 * the context, and execute (or, for a subscription, its set-up), each a child of the request's span, with
 * Prisma's spans under execute. Added only when tracing is on (src/tracing.ts). Hand-written on envelop's
 * hooks: @envelop/opentelemetry traces execution only, and Hive's plugin brings a gateway runtime with it.
 */
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { getOperationAST, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { tracer } from '../spans';

function finish(span: Span, error?: unknown): void {
  if (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Runs `run` (execute or subscribe) inside a span named after the operation, ended when it settles. */
function operationSpan<T>(phase: 'execute' | 'subscribe', args: ExecutionArgs, run: () => T): T {
  const operation = getOperationAST(args.document, args.operationName);
  const name = `graphql.${phase} ${operation?.name?.value ?? 'anonymous'}`;
  const attributes = {
    'graphql.operation.type': operation?.operation ?? 'unknown',
    'graphql.operation.name': operation?.name?.value ?? '',
  };
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    try {
      const result = run();
      if (result instanceof Promise)
        return result.then(
          (value: unknown) => (finish(span), value),
          (error: unknown) => (finish(span, error), Promise.reject(error as Error)),
        ) as T;
      finish(span);
      return result;
    } catch (error) {
      finish(span, error);
      throw error;
    }
  });
}

export function tracingPlugin(): Plugin {
  return {
    onParse() {
      const span = tracer.startSpan('graphql.parse');
      return ({ result }) => finish(span, result instanceof Error ? result : undefined);
    },
    onValidate() {
      const span = tracer.startSpan('graphql.validate');
      return ({ valid, result }) => {
        if (!valid) span.setAttribute('graphql.validation.errors', result.length);
        finish(span);
      };
    },
    onContextBuilding() {
      const span = tracer.startSpan('graphql.context');
      return () => finish(span);
    },
    onExecute({ executeFn, setExecuteFn }) {
      const execute = executeFn as (args: ExecutionArgs) => unknown;
      setExecuteFn(((args: ExecutionArgs) => operationSpan('execute', args, () => execute(args))) as typeof executeFn);
    },
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      // The set-up (the first read included): each later message is its own refetch span.
      const subscribe = subscribeFn as (args: ExecutionArgs) => unknown;
      setSubscribeFn(((args: ExecutionArgs) => operationSpan('subscribe', args, () => subscribe(args))) as typeof subscribeFn);
    },
  };
}
