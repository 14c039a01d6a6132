/**
 * Which document URLs the pipeline may be asked to fetch: the decisions made from a host's DNS answer. The
 * answers come from a table here (a test cannot make this machine's resolver answer with a private address
 * for a public-looking name); tests/graphql/document-url.test.ts sends the URLs through the API.
 */
import { DocumentUrlChecker, nonPublicRange } from '../../src/runs/document-url';

const ANSWERS: Record<string, string[]> = {
  'blob.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'rebound.example.com': ['169.254.169.254'],
  'loop.example.com': ['127.0.0.1'],
  'mapped.example.com': ['::ffff:10.0.0.1'],
  'mixed.example.com': ['93.184.215.14', '192.168.1.10'],
  'ula.example.com': ['fd00:ec2::254'],
  'cgnat.example.com': ['100.100.100.200'],
};
const lookups: string[] = [];
const lookup = (host: string) => {
  lookups.push(host);
  const answer = ANSWERS[host];
  return answer ? Promise.resolve(answer) : Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
};

const checker = (httpsOnly = true, allowedHosts: string[] = []) => new DocumentUrlChecker({ httpsOnly, allowedHosts }, lookup);
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: Error & { extensions?: { field?: string } }) => `${error.extensions?.field}: ${error.message}`,
  );

it.each([
  ['rebound.example.com', '169.254.169.254 (linkLocal)'],
  ['loop.example.com', '127.0.0.1 (loopback)'],
  ['mapped.example.com', '::ffff:10.0.0.1 (private)'],
  ['mixed.example.com', '192.168.1.10 (private)'],
  ['ula.example.com', 'fd00:ec2::254 (uniqueLocal)'],
  ['cgnat.example.com', '100.100.100.200 (carrierGradeNat)'],
])('refuses %s, which resolves to %s, naming the address', async (host, resolved) => {
  expect(await refusal(checker().check(`https://${host}/a.pdf`))).toBe(
    `input.documentUrl: input.documentUrl must name a public host: ${host} resolves to ${resolved}`,
  );
});

it('accepts a host whose every address is public, and one that does not resolve now (the worker decides)', async () => {
  expect(await checker().check('https://BLOB.example.com./a%20b.pdf#page=2')).toBe('https://blob.example.com/a%20b.pdf#page=2');
  expect(await checker().check('https://gone.example.com/a.pdf')).toBe('https://gone.example.com/a.pdf');
});

it('looks a host up once for many URLs on it', async () => {
  const shared = checker();
  lookups.length = 0;
  await Promise.all([1, 2, 3].map((n) => shared.check(`https://blob.example.com/${n}.pdf`)));
  await shared.check('https://blob.example.com/4.pdf');
  expect(lookups.filter((host) => host === 'blob.example.com')).toHaveLength(1);
});

it('with an allow-list: only those hosts, subdomains by *.', async () => {
  const strict = checker(true, ['blob.example.com', '*.vercel-storage.test']);
  expect(await strict.check('https://blob.example.com/a.pdf')).toBe('https://blob.example.com/a.pdf');
  expect(await strict.check('https://abc.public.blob.vercel-storage.test/a.pdf')).toBe('https://abc.public.blob.vercel-storage.test/a.pdf');
  expect(await refusal(strict.check('https://other.example.com/a.pdf'))).toMatch(
    /document hosts this server accepts \(blob\.example\.com, \*\.vercel/,
  );
  expect(await refusal(strict.check('https://vercel-storage.test.evil.test/a.pdf'))).toMatch(/document hosts/);
});

it('classifies addresses: only public unicast passes', () => {
  expect(nonPublicRange('8.8.8.8')).toBeUndefined();
  expect(nonPublicRange('2606:4700::1111')).toBeUndefined();
  for (const address of ['0.0.0.0', '255.255.255.255', '224.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::', '2001::1', 'fe80::1', '::']) {
    expect(nonPublicRange(address)).toBeDefined();
  }
});

it('a resolver that never answers holds up one check per host and period, not every check', async () => {
  const asked: string[] = [];
  const silent = new DocumentUrlChecker({ httpsOnly: true, allowedHosts: [] }, (host) => {
    asked.push(host);
    return new Promise(() => undefined); // no answer, ever
  });
  // The first check waits out the lookup's timeout, and accepts (the worker decides); concurrent ones join it.
  expect(await Promise.all([1, 2].map((n) => silent.check(`https://quiet.example.com/${n}.pdf`)))).toEqual([
    'https://quiet.example.com/1.pdf',
    'https://quiet.example.com/2.pdf',
  ]);
  // Later checks of the same host take the remembered non-answer: no second lookup.
  expect(await silent.check('https://quiet.example.com/3.pdf')).toBe('https://quiet.example.com/3.pdf');
  expect(asked).toEqual(['quiet.example.com']);
});
