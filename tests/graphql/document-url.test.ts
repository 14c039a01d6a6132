/**
 * createRun's documentUrl against a production server: the pipeline fetches it from inside its own network,
 * so every URL that names that network is refused (BAD_USER_INPUT naming input.documentUrl, nothing stored);
 * a public https URL is stored normalised.
 */
import { CreateRunDocument, type CreateRunInput } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { codesOf, dataOf, execute } from '../helpers/graphql';

let api: ApiFixture;
let token: string;
beforeAll(async () => {
  api = await startApi({ NODE_ENV: 'production', RATE_LIMIT_CREATE_RUN_PER_MINUTE: '0', RATE_LIMIT_CREATE_RUN_PER_DAY: '0' });
  ({ token } = await api.signIn('user_document_url'));
});
afterAll(() => api.close());

const input = (documentUrl: string): CreateRunInput => ({
  companyId: 'lactalis-canada',
  companyName: 'Lactalis',
  documentName: 'report.pdf',
  documentUrl,
});

it.each([
  ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', /https:\/\/ URL/],
  ['https://169.254.169.254/latest/meta-data/iam/security-credentials/', /not an IP address \(169\.254\.169\.254\)/],
  ['https://localhost:5432', /localhost is a name inside a private network/],
  ['https://localhost./x', /localhost is a name inside a private network/],
  ['https://api.localhost/x', /private network/],
  ['https://127.0.0.1:4000/metrics', /not an IP address \(127\.0\.0\.1\)/],
  ['https://[::1]/', /not an IP address \(\[::1\]\)/],
  ['https://0x7f000001/', /not an IP address \(127\.0\.0\.1\)/],
  ['https://2130706433/', /not an IP address \(127\.0\.0\.1\)/],
  ['https://127.1/', /not an IP address \(127\.0\.0\.1\)/],
  ['https://0177.0.0.1/', /not an IP address \(127\.0\.0\.1\)/],
  ['https://10.0.0.1/', /not an IP address/],
  ['https://192.168.1.1/', /not an IP address/],
  ['https://[fd00::1]/', /not an IP address/],
  ['https://[::ffff:127.0.0.1]/', /not an IP address/],
  ['https://metadata.google.internal/computeMetadata/v1/', /metadata\.google\.internal is a name inside a private network/],
  ['https://metadata/computeMetadata/v1/', /private network/],
  ['https://printer.local/', /private network/],
  ['https://user:pass@blob.example.com/a.pdf', /user name or password/],
  ['https://user@blob.example.com/a.pdf', /user name or password/],
  ['http://blob.example.com/a.pdf', /must be an https:\/\/ URL/],
  ['ftp://blob.example.com/a.pdf', /must be an https:\/\/ URL/],
  ['file:///etc/passwd', /must be an https:\/\/ URL/],
])('refuses %s, naming the field, and stores nothing', async (documentUrl, message) => {
  const before = await api.db.prisma.run.count();
  const response = await execute(api.server.url, CreateRunDocument, { input: input(documentUrl) }, { token });
  expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
  expect(response.errors![0]!.extensions).toMatchObject({ field: 'input.documentUrl' });
  expect(response.errors![0]!.message).toMatch(/^input\.documentUrl must /);
  expect(response.errors![0]!.message).toMatch(message);
  expect(await api.db.prisma.run.count()).toBe(before);
});

it('stores a public https URL normalised', async () => {
  const { createRun } = dataOf(
    await execute(api.server.url, CreateRunDocument, { input: input('  HTTPS://Blob.Example.COM./reports/Q1%20trends.pdf ') }, { token }),
  );
  expect(createRun.documentUrl).toBe('https://blob.example.com/reports/Q1%20trends.pdf');
});

it('with DOCUMENT_URL_HOSTS: only the listed hosts', async () => {
  const strict = await startApi({ NODE_ENV: 'production', DOCUMENT_URL_HOSTS: '*.public.blob.vercel-storage.com' });
  try {
    const { token: own } = await strict.signIn('user_allow_list');
    const send = (url: string) => execute(strict.server.url, CreateRunDocument, { input: input(url) }, { token: own });
    const refused = await send('https://files.example.com/a.pdf');
    expect(refused.errors![0]!.message).toBe(
      'input.documentUrl must be on one of the document hosts this server accepts (*.public.blob.vercel-storage.com)',
    );
    expect(dataOf(await send('https://abc123.public.blob.vercel-storage.com/a.pdf')).createRun.documentUrl).toBe(
      'https://abc123.public.blob.vercel-storage.com/a.pdf',
    );
  } finally {
    await strict.close();
  }
});
