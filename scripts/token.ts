/**
 * `npm run token -- --user test_user_123 [--email a@b.c] [--name "Ada"] [--ttl 3600] [--session sess_1]`: prints a development
 * session token signed by the local key in .data/ (created on first use). The server trusts it only when
 * NODE_ENV is not production and no Clerk key is configured.
 */
import { commandLine } from '../src/args';
import { signDevToken } from '../src/auth/dev-keys';
import { ConfigError, loadConfig } from '../src/config';
import { runCli } from './cli';

async function main(): Promise<void> {
  const config = loadConfig();
  const { values } = commandLine({
    usage: 'npm run token [-- --user ID --email E --name N --ttl SECONDS --session SID --raw]',
    help: `Prints a development session token signed by the local key in DATA_DIR (created on first use). The
server trusts it only when NODE_ENV is not production and no Clerk key is configured.
  --user ID       Clerk user id (default test_user_123, the seed's user)
  --email E       the email claim (default derived from the id)
  --name N        the name claim
  --ttl SECONDS   lifetime (default 3600)
  --session SID   the sid claim (default a new one)
  --raw           print the token alone`,
    options: {
      user: { type: 'string', default: 'test_user_123' },
      email: { type: 'string' },
      name: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      session: { type: 'string' },
      raw: { type: 'boolean', default: false },
    },
  });
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1)
    throw new ConfigError(`--ttl must be a whole number of seconds (got "${values.ttl}")`);
  if (!config.auth.devTokens) {
    throw new ConfigError('this server does not trust development tokens (NODE_ENV=production or a Clerk key is configured)');
  }
  // The seed data's user and the demo users have known emails; anyone else gets one derived from the id.
  const email = values.email ?? (values.user === 'test_user_123' ? 'test@example.com' : `${values.user}@example.com`);
  const token = await signDevToken(config.dataDir, {
    clerkId: values.user,
    email,
    name: values.name,
    ttlSeconds,
    sessionId: values.session,
  });
  if (values.raw) {
    process.stdout.write(`${token}\n`);
    return;
  }
  process.stdout.write(`${token}\n\n`);
  process.stderr.write(`GraphiQL headers: { "Authorization": "Bearer ${token}" }\n`);
  process.stderr.write(`curl: -H 'Authorization: Bearer ${token}'\n(valid ${ttlSeconds} s for ${values.user})\n`);
}

runCli(main);
