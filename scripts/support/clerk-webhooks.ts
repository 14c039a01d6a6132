/**
 * Clerk webhook deliveries as Clerk sends them: an event payload shaped like Clerk's (only the fields this
 * server reads, plus a few for realism) and the Svix headers, signed with `standardwebhooks` (the scheme Svix
 * uses: HMAC-SHA256 over "id.timestamp.body" with the base64 secret after `whsec_`). For `npm run
 * webhook:clerk` and the tests.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export interface SampleEventOptions {
  clerkId: string;
  /** session.* events: the session id (`sid` in its tokens). */
  sessionId?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  /** The user's `updated_at` (ms); default now. */
  updatedAt?: number;
  /** The event's `timestamp` (ms); default now. */
  timestamp?: number;
}

export interface ClerkEventPayload {
  type: string;
  object: 'event';
  data: Record<string, unknown>;
  timestamp: number;
  instance_id: string;
}

/** A new random signing secret in Clerk's format. */
export const newSigningSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export function sampleClerkEvent(type: string, options: SampleEventOptions): ClerkEventPayload {
  const now = Date.now();
  const event = (data: Record<string, unknown>): ClerkEventPayload => ({
    type,
    object: 'event',
    data,
    timestamp: options.timestamp ?? now,
    instance_id: 'ins_sample',
  });
  if (type === 'user.deleted') return event({ id: options.clerkId, object: 'user', deleted: true });
  if (type.startsWith('session.')) {
    const status = type.slice('session.'.length);
    return event({ id: options.sessionId ?? `sess_${randomUUID().slice(0, 12)}`, object: 'session', user_id: options.clerkId, status });
  }
  const emailId = `idn_${randomUUID().slice(0, 12)}`;
  return event({
    id: options.clerkId,
    object: 'user',
    first_name: options.firstName ?? null,
    last_name: options.lastName ?? null,
    primary_email_address_id: emailId,
    email_addresses: [{ id: emailId, object: 'email_address', email_address: options.email ?? `${options.clerkId}@example.com` }],
    created_at: now,
    updated_at: options.updatedAt ?? now,
  });
}

export interface SignedDelivery {
  headers: Record<string, string>;
  body: string;
}

/** Svix's three headers for `body`, signed with `secret` (as of `timestamp`, default now). */
export function signDelivery(secret: string, body: string, options: { id?: string; timestamp?: Date } = {}): SignedDelivery {
  const id = options.id ?? `msg_${randomUUID().replace(/-/g, '')}`;
  const timestamp = options.timestamp ?? new Date();
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'svix-id': id,
      'svix-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'svix-signature': new Webhook(secret).sign(id, timestamp, body),
    },
  };
}
