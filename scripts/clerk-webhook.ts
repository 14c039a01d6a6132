/**
 * `npm run webhook:clerk -- <event type> [--user ID] [--session SID] [--email E] [--url URL]`: signs a sample
 * Clerk event with CLERK_WEBHOOK_SIGNING_SECRET (from .env or the environment, as the server reads it) the
 * way Svix does, posts it to the running server's POST /webhooks/clerk and prints the answer. For trying the
 * endpoint locally without Clerk: e.g. `user.updated --user test_user_123 --email new@example.com`,
 * `session.revoked --user test_user_123 --session sess_…`, `user.deleted --user test_user_123`.
 */
import { commandLine } from '../src/args';
import { HANDLED_EVENT_TYPES } from '../src/auth/lifecycle';
import { ConfigError, loadConfig } from '../src/config';
import { runCli } from './cli';
import { sampleClerkEvent, signDelivery } from './support/clerk-webhooks';

async function main(): Promise<number> {
  const config = loadConfig();
  const { values, positionals } = commandLine({
    usage: 'npm run webhook:clerk -- <event type> [--user ID --session SID --email E --first-name F --last-name L --url URL]',
    help: `Signs a sample Clerk event with CLERK_WEBHOOK_SIGNING_SECRET the way Svix does, posts it to the running
server's POST /webhooks/clerk and prints the answer. Event types the server applies: ${HANDLED_EVENT_TYPES.join(', ')}.
  --user ID              the Clerk user id (default test_user_123)
  --session SID          the session id (session.* events)
  --email E, --first-name F, --last-name L   the user's profile (user.* events)
  --url URL              where to post (default http://localhost:PORT/webhooks/clerk)`,
    positionals: true,
    options: {
      user: { type: 'string', default: 'test_user_123' },
      session: { type: 'string' },
      email: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      url: { type: 'string', default: `http://localhost:${config.port}/webhooks/clerk` },
    },
  });
  const [type] = positionals;
  if (!type || positionals.length > 1)
    throw new ConfigError(`give one event type: ${HANDLED_EVENT_TYPES.join(', ')} (or any other, which the server ignores)`);
  const secret = config.webhooks.clerkSigningSecret;
  if (!secret) throw new ConfigError('CLERK_WEBHOOK_SIGNING_SECRET is not set: put the same value in .env for the server and this script');
  if (type.startsWith('session.') && !values.session)
    throw new ConfigError(`${type} needs --session (the sid claim of the session's tokens)`);

  const payload = sampleClerkEvent(type, {
    clerkId: values.user,
    sessionId: values.session,
    email: values.email,
    firstName: values['first-name'],
    lastName: values['last-name'],
  });
  const { headers, body } = signDelivery(secret, JSON.stringify(payload));
  const response = await fetch(values.url, { method: 'POST', headers, body });
  console.log(`${response.status} ${await response.text()} (svix-id ${headers['svix-id']})`);
  return response.ok ? 0 : 1;
}

runCli(main);
