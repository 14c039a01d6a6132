/**
 * `POST /webhooks/clerk`: Clerk's user and session events, signed by Svix. Outside GraphQL (no CSRF check, no
 * query limits: the signature is the authentication), with its own body limit. Verification is
 * `@clerk/backend/webhooks`' `verifyWebhook` (signature, secret, timestamp within Svix's 5-minute tolerance);
 * anything it refuses, and a verified body that is not a Clerk event, is a 400 with a one-line reason and
 * writes nothing. A delivery that fails for a reason that may pass (a conflict, the database) answers 409/500,
 * so Svix delivers it again.
 */
import type http from 'node:http';
import { verifyWebhook } from '@clerk/backend/webhooks';
import { applyClerkDelivery, purgeExpired, WebhookPayloadError, type WebhookOutcome } from '../auth/lifecycle';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import { toClientError } from '../db/errors';
import { logger } from '../logger';
import { inSpan } from '../spans';
import type { Metrics } from './metrics';
import { refuseUnread, sendJson } from './respond';

export const CLERK_WEBHOOK_PATH = '/webhooks/clerk';

/** Old processed ids and forgotten revocations are deleted at most this often, by the instance taking a webhook. */
const PURGE_EVERY_MS = 60 * 60_000;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

const refuse = (status: number, error: string): Reply => ({ status, body: { error } });

/**
 * The body, or a refusal when it is larger than `maxBytes` (413, decided before reading when Content-Length says
 * so). Over the limit, reading stops with the stream paused, not destroyed: the refusal discards the rest.
 */
function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string | Reply> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes)
    return Promise.resolve(refuse(413, `Body is ${declared} bytes; the limit is ${maxBytes} (WEBHOOK_MAX_BODY_BYTES)`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd).pause();
      resolve(refuse(413, `Body is over ${maxBytes} bytes (WEBHOOK_MAX_BODY_BYTES)`));
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData).once('end', onEnd).once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}

/** Clerk's verification messages, without its package prefix: "No matching signature found", "Message timestamp too old". */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/^🔒?\s*Clerk:\s*/u, '')
    .split('\n')[0]!
    .replace(/\s*\(.*?\)\s*$/, '');
}

type ClerkEvent = Awaited<ReturnType<typeof verifyWebhook>>;

/** The verified event and its headers, or the 400 saying why it is not one. */
async function verifyDelivery(
  req: http.IncomingMessage,
  body: string,
  signingSecret: string,
): Promise<{ headers: Headers; event: ClerkEvent } | Reply> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  try {
    const event = await verifyWebhook(new Request(`http://webhook${CLERK_WEBHOOK_PATH}`, { method: 'POST', headers, body }), {
      signingSecret,
    });
    return { headers, event };
  } catch (error) {
    return refuse(400, `Webhook refused: ${reasonOf(error)}`);
  }
}

const FAILED = 'Internal server error: the webhook was not applied; Svix will retry it';

/**
 * A verified delivery that could not be applied, and its answer. Database failures go through the project's
 * one error table (which logs the unexpected ones); anything but a conflict is the server's, and Svix retries.
 */
function refusalFor(error: unknown): { reply: Reply; outcome: string } {
  if (error instanceof WebhookPayloadError) return { reply: refuse(400, `Webhook refused: ${error.message}`), outcome: 'rejected' };
  // A duplicate can only be the email: another user still holds it here (their own change may not have arrived yet).
  if (toClientError(error).code === 'CONFLICT') {
    return { reply: refuse(409, 'Conflict: the email address belongs to another user here; retry later'), outcome: 'conflict' };
  }
  return { reply: refuse(500, FAILED), outcome: 'failed' };
}

export interface WebhookDependencies {
  db: Database;
  config: Pick<AppConfig, 'webhooks' | 'auth'>;
  metrics: Pick<Metrics, 'webhookReceived'>;
}

export function clerkWebhookHandler({ db, config, metrics }: WebhookDependencies) {
  const { clerkSigningSecret, maxBodyBytes, retentionDays } = config.webhooks;
  let lastPurge = 0;

  const purgeNowAndThen = () => {
    if (Date.now() - lastPurge < PURGE_EVERY_MS) return;
    lastPurge = Date.now();
    purgeExpired(db, retentionDays).catch((err: unknown) => logger.warn('could not purge old webhook ids', { err }));
  };

  const receive = async (req: http.IncomingMessage): Promise<Reply> => {
    if (!clerkSigningSecret) return refuse(404, 'Clerk webhooks are not enabled on this server: set CLERK_WEBHOOK_SIGNING_SECRET');
    const body = await readBody(req, maxBodyBytes);
    if (typeof body !== 'string') return body;

    const verified = await verifyDelivery(req, body, clerkSigningSecret);
    if ('status' in verified) {
      metrics.webhookReceived('unverified', 'rejected');
      return verified;
    }
    const { headers, event } = verified;
    const type = typeof event.type === 'string' ? event.type : 'unknown';
    let outcome: WebhookOutcome;
    try {
      outcome = await applyClerkDelivery(
        db,
        {
          id: headers.get('svix-id')!,
          type,
          timestamp: typeof event.timestamp === 'number' ? event.timestamp : undefined,
          data: event.data,
        },
        { maxTokenLifetimeSeconds: config.auth.maxTokenLifetimeSeconds },
      );
    } catch (error) {
      const refusal = refusalFor(error);
      metrics.webhookReceived(type, refusal.outcome);
      return refusal.reply;
    }
    metrics.webhookReceived(type, outcome);
    const fields = { type, outcome, svixId: headers.get('svix-id') };
    if (outcome === 'ignored') logger.debug('clerk webhook of a type this server does not use', fields);
    else logger.info('clerk webhook', fields);
    purgeNowAndThen();
    return { status: 200, body: { received: true, outcome } };
  };

  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let reply: Reply;
    try {
      reply = await inSpan('clerk.webhook', {}, () => receive(req));
    } catch (err) {
      logger.error('clerk webhook failed', { err });
      metrics.webhookReceived('unknown', 'failed');
      reply = refuse(500, FAILED);
    }
    // A body over the limit is not kept: the rest is discarded and the connection closed.
    if (reply.status === 413) refuseUnread(req, res, reply.status, reply.body);
    else sendJson(res, reply.status, reply.body);
  };
}
