/**
 * Every client mistake is a client error. The sweep walks every argument of every query, mutation and
 * subscription in the schema (input object fields included) and sends each bad value a client could send for
 * its type, through variables and as literals: no response may carry INTERNAL_SERVER_ERROR or an error without
 * a code, no mutation may succeed, and no row may change. Then the specific cases: garbage cursors, text
 * PostgreSQL cannot store, lengths in characters, and a run deleted while it is being read.
 */
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { schema } from '../../src/schema';
import { CreateRunDocument, RunsDocument } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { createCompletedRun, createRun } from '../helpers/fixtures';
import { codesOf, dataOf, execute, postQuery, type GraphQLErrorBody } from '../helpers/graphql';
import { subscribeWs, wsClient } from '../helpers/subscriptions';

let api: ApiFixture;
let token: string;
let userId: string;
let runId: string;
let cardId: string;

beforeAll(async () => {
  api = await startApi({ RATE_LIMIT_REQUESTS_PER_MINUTE: '0', RATE_LIMIT_CREATE_RUN_PER_MINUTE: '0', RATE_LIMIT_CREATE_RUN_PER_DAY: '0' });
  ({ token, userId } = await api.signIn('user_bad_input'));
  const run = await createCompletedRun(api.db.prisma, userId);
  await api.db.prisma.run.update({ where: { id: run.id }, data: { status: 'FAILED', errorMessage: 'boom' } });
  runId = run.id;
  cardId = (await api.db.prisma.opportunityCard.findFirstOrThrow({ where: { runId } })).id;
});
afterAll(() => api.close());

/** A digest of every data table: equal digests mean no row was added, changed or removed. */
async function snapshot(): Promise<string> {
  const digests = [];
  for (const table of ['User', 'Run', 'OpportunityCard', 'InspirationReport', 'StageOutput']) {
    const { rows } = await api.db.sql.query<{ digest: string }>(
      `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM "${table}" t`,
    );
    digests.push(`${table}:${rows[0]!.digest}`);
  }
  return digests.join(' ');
}

const cursor = (raw: string) => Buffer.from(raw).toString('base64');

/** Values a client could send that no argument of this type accepts (besides null for required ones). */
function badValuesFor(type: GraphQLInputType, name: string): unknown[] {
  const named = getNamedType(type);
  const required = isNonNullType(type);
  const common: unknown[] = [{ nested: 'object' }, [[1]], ...(required ? [null] : [])];
  if (isListType(getNullableType(type))) return [...common, [null], ['NOT_A_STATUS'], 42];
  if (isInputObjectType(named)) return [...common, 'a string', {}, { unknown: 1 }];
  if (isEnumType(named)) return [...common, 'NOT_A_STATUS', 'running', 7, true];
  if (isScalarType(named)) {
    switch (named.name) {
      case 'Int':
        return [...common, 2.5, '5', 2 ** 31, -(2 ** 31) - 1, 1e100, true];
      case 'Boolean':
        return [...common, 'true', 1, 0];
      case 'String':
      case 'ID': {
        const text = ['a\u0000b', '\u0000', 'x\ud800', '\udc00y', 'a\nb', 'report\u202Efdp.exe', '\u200B', 12.5, true];
        // Cursors: what Pothos would decode into a number, JSON, a date, or nothing at all.
        const cursors = ['after', 'before'].includes(name)
          ? [
              'GPC:N',
              'GPC:J',
              'GPC:D',
              cursor('GPC:N:abc'),
              cursor('GPC:J:{oops'),
              cursor('GPC:D:not-a-date'),
              cursor('GPC:J:{"a":1}'),
              'not base64 !!',
              cursor('nonsense'),
            ]
          : [];
        return [...common, ...text, ...cursors];
      }
    }
  }
  return common;
}

/** A valid value for every argument, so each case changes exactly one. */
function validValueFor(type: GraphQLInputType, name: string): unknown {
  const named = getNamedType(type);
  if (isListType(getNullableType(type))) return ['RUNNING'];
  if (isInputObjectType(named)) {
    return { companyId: 'acme', companyName: 'Acme', documentName: 'r.pdf', documentUrl: 'https://x.test/r.pdf' };
  }
  if (isEnumType(named)) return 'COMPLETED';
  switch (named.name) {
    case 'Int':
      return name === 'stageNumber' ? 1 : 2;
    case 'Boolean':
      return true;
    default:
      if (name === 'id') return undefined; // chosen per field below
      if (name === 'runId') return runId;
      if (name === 'companyId') return 'acme';
      return undefined; // optional strings (cursors) are simply left out
  }
}

function selectionFor(field: GraphQLField<unknown, unknown>): string {
  const type = getNamedType(field.type);
  if (!isObjectType(type)) return '';
  const fields = type.getFields();
  if ('edges' in fields) return '{ totalCount edges { cursor node { __typename } } }';
  if ('deletedRunId' in fields) return '{ deletedRunId }';
  return '{ __typename id }';
}

interface Case {
  operation: 'query' | 'mutation' | 'subscription';
  label: string;
  document: string;
  variables: Record<string, unknown>;
}

/** Every (argument, bad value) of every root field, through variables; plus the missing-variable case. */
function sweepCases(): Case[] {
  const cases: Case[] = [];
  const roots = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ] as const;
  for (const [operation, root] of roots) {
    for (const field of Object.values(root!.getFields())) {
      const idFor = field.name === 'setCardStarred' ? cardId : runId;
      const valid = (arg: GraphQLArgument) => (arg.name === 'id' ? idFor : validValueFor(arg.type, arg.name));
      for (const target of field.args) {
        const declarations = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
        const argumentList = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
        const document = `${operation} Sweep${declarations ? `(${declarations})` : ''} { ${field.name}${argumentList ? `(${argumentList})` : ''} ${selectionFor(field)} }`;
        const base: Record<string, unknown> = Object.fromEntries(
          field.args.map((arg): [string, unknown] => [arg.name, valid(arg)]).filter(([, value]) => value !== undefined),
        );
        const values: Array<[string, unknown]> = badValuesFor(target.type, target.name).map((value) => [JSON.stringify(value), value]);
        // Each field of an input object too.
        const inputType = getNamedType(target.type);
        if (isInputObjectType(inputType)) {
          for (const inner of Object.values(inputType.getFields())) {
            for (const value of badValuesFor(inner.type, inner.name)) {
              values.push([`.${inner.name}=${JSON.stringify(value)}`, { ...(base[target.name] as object), [inner.name]: value }]);
            }
            const { [inner.name]: _missing, ...without } = base[target.name] as Record<string, unknown>;
            values.push([`.${inner.name} missing`, without]);
          }
        }
        for (const [label, value] of values) {
          cases.push({
            operation,
            label: `${field.name}(${target.name}: ${label})`,
            document,
            variables: { ...base, [target.name]: value },
          });
        }
        if (isNonNullType(target.type)) {
          const { [target.name]: _missing, ...rest } = base;
          cases.push({ operation, label: `${field.name}($${target.name} missing)`, document, variables: rest });
        }
      }
    }
  }
  // NUL and a lone surrogate as literals in the document itself.
  cases.push({
    operation: 'query',
    label: 'runs(companyId: literal NUL)',
    document: '{ runs(companyId: "a\\u0000b") { totalCount } }',
    variables: {},
  });
  cases.push({ operation: 'query', label: 'run(id: literal NUL)', document: '{ run(id: "\\u0000") { id } }', variables: {} });
  cases.push({
    operation: 'query',
    label: 'nested User.runs(companyId: NUL)',
    document: 'query ($c: String) { me { runs(companyId: $c) { totalCount } } }',
    variables: { c: '\u0000' },
  });
  cases.push({
    operation: 'query',
    label: 'nested Run.stageOutputs(stageNumber: 2.5)',
    document: 'query ($id: ID!, $s: Int) { run(id: $id) { stageOutputs(stageNumber: $s) { id } } }',
    variables: { id: runId, s: 2.5 },
  });
  return cases;
}

/** Sends a case over HTTP (queries, mutations) or graphql-ws (subscriptions); returns its errors. */
async function send(
  testCase: Case,
  client: ReturnType<typeof wsClient>,
): Promise<{ status: number; errors: GraphQLErrorBody[]; data: unknown }> {
  if (testCase.operation !== 'subscription') {
    const response = await postQuery(api.server.url, testCase.document, { token, variables: testCase.variables });
    return { status: response.status, errors: response.errors ?? [], data: response.data };
  }
  const sub = subscribeWs(client, { toString: () => testCase.document } as never, testCase.variables as never);
  await sub.waitFor(() => true, 5_000).catch(() => undefined); // the first message, or the end
  sub.unsubscribe();
  const ended = await Promise.race([sub.ended, Promise.resolve({ error: undefined })]);
  const errors = [...((ended.error as GraphQLErrorBody[] | undefined) ?? []), ...sub.messages.flatMap((m) => m.errors ?? [])];
  return { status: 200, errors, data: sub.messages[0]?.data };
}

it('the sweep: every argument of every operation, every bad value: client errors only, no row changed', async () => {
  const cases = sweepCases();
  expect(cases.length).toBeGreaterThan(150);
  const before = await snapshot();
  const client = wsClient(api.server.wsUrl, token);
  const failures: string[] = [];
  try {
    for (const testCase of cases) {
      const { status, errors, data } = await send(testCase, client);
      const codes = errors.map((error) => error.extensions?.code);
      if (codes.includes('INTERNAL_SERVER_ERROR') || codes.includes(undefined) || status >= 500) {
        failures.push(`${testCase.label}: ${status} ${JSON.stringify(errors)}`);
      }
      if (testCase.operation === 'mutation' && errors.length === 0)
        failures.push(`${testCase.label}: the mutation succeeded ${JSON.stringify(data)}`);
    }
  } finally {
    await client.dispose();
  }
  expect(failures).toEqual([]);
  expect(await snapshot()).toBe(before);
}, 120_000);

describe('specific mistakes', () => {
  it.each([
    ['GPC:N', 'GPC:N'],
    ['a number cursor', cursor('GPC:N:12')],
    ['a JSON cursor', cursor('GPC:J:{"id":1}')],
    ['a date cursor', cursor('GPC:D:2025-01-01')],
  ])('a garbage cursor (%s) is BAD_USER_INPUT naming the argument', async (_label, after) => {
    const response = await execute(api.server.url, RunsDocument, { first: 2, after }, { token });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions).toMatchObject({ field: 'after' });
  });

  it('a float or a missing variable is a 400 BAD_USER_INPUT', async () => {
    const float = await postQuery(api.server.url, 'query ($f: Int) { runs(first: $f) { totalCount } }', { token, variables: { f: 2.5 } });
    expect(float.status).toBe(400);
    expect(codesOf(float)).toEqual(['BAD_USER_INPUT']);
    const missing = await postQuery(api.server.url, 'query ($id: ID!) { run(id: $id) { id } }', { token, variables: {} });
    expect(missing.status).toBe(400);
    expect(codesOf(missing)).toEqual(['BAD_USER_INPUT']);
    expect(missing.errors![0]!.message).toMatch(/\$id/);
  });

  it('NUL and lone surrogates are refused naming the field, never stored (as U+FFFD or otherwise)', async () => {
    const input = { companyId: 'acme', companyName: 'Acme', documentName: 'r.pdf', documentUrl: 'https://x.test/r.pdf' };
    const before = await api.db.prisma.run.count();
    const nul = await execute(api.server.url, CreateRunDocument, { input: { ...input, companyName: 'Ac\u0000me' } }, { token });
    expect(nul.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.companyName' });
    const surrogate = await execute(
      api.server.url,
      CreateRunDocument,
      { input: { ...input, documentName: 'report\ud83d.pdf' } },
      { token },
    );
    expect(surrogate.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.documentName' });
    expect(surrogate.errors![0]!.message).toMatch(/surrogate/);
    expect(await api.db.prisma.run.count()).toBe(before);
    expect(await api.db.prisma.run.count({ where: { documentName: { contains: '\ufffd' } } })).toBe(0);
  });

  it.each([
    ['a right-to-left override', 'report\u202Efdp.exe', 'companyName', /bidirectional .* \(U\+202E at character 7\)/],
    ['a bidi isolate', 'a\u2067b', 'documentName', /bidirectional .* \(U\+2067 at character 2\)/],
    ['a line feed', 'Acme\nCorp', 'companyName', /control characters or line breaks \(U\+000A at character 5\)/],
    ['a carriage return', 'Acme\r', 'companyName', /control characters or line breaks \(U\+000D/],
    ['an escape', '\u001b[31mAcme', 'companyName', /control characters .*U\+001B/],
    ['a bell', 'Acme\u0007', 'documentName', /control characters .*U\+0007/],
    ['a C1 control', 'Acme\u0085', 'companyName', /control characters .*U\+0085/],
    ['a line separator', 'Acme\u2028Corp', 'companyName', /line breaks .*U\+2028/],
    ['a zero-width space', 'Ac\u200Bme', 'companyName', /invisible characters \(U\+200B at character 3\)/],
    ['a byte order mark', '\uFEFFAcme', 'documentName', /invisible characters \(U\+FEFF/],
    ['a soft hyphen', 'report\u00ADexe.pdf', 'documentName', /invisible characters \(U\+00AD/],
    ['a joiner at the start', '\u200DAcme', 'companyName', /zero-width joiner .*U\+200D at character 1/],
    ['a joiner beside a space', 'Acme \u200C Corp', 'companyName', /zero-width joiner .*U\+200C/],
  ])('%s in a name is refused naming the field and the character, and nothing is stored', async (_label, value, field, message) => {
    const input = { companyId: 'acme', companyName: 'Acme', documentName: 'r.pdf', documentUrl: 'https://x.test/r.pdf', [field]: value };
    const before = await api.db.prisma.run.count();
    const response = await execute(api.server.url, CreateRunDocument, { input }, { token });
    expect(response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: `input.${field}` });
    expect(response.errors![0]!.message).toMatch(new RegExp(`^input\\.${field} must not contain `));
    expect(response.errors![0]!.message).toMatch(message);
    expect(await api.db.prisma.run.count()).toBe(before);
  });

  it('text that needs joiners or direction marks is accepted as written', async () => {
    const names = [
      'Famille 👨\u200D👩\u200D👧', // an emoji sequence joined by ZWJ
      'می\u200Cخواهم', // Persian with a zero-width non-joiner
      'شركة\u200F ABC', // a right-to-left mark (a mark, not an override)
      '❤️\u200D🔥 Dairy',
    ];
    for (const companyName of names) {
      const input = { companyId: 'acme', companyName, documentName: `${companyName}.pdf`, documentUrl: 'https://x.test/r.pdf' };
      const response = await execute(api.server.url, CreateRunDocument, { input }, { token });
      expect(response.errors).toBeUndefined();
      expect(await api.db.prisma.run.count({ where: { companyName } })).toBe(1);
    }
  });

  it('lengths count characters: 150 emoji fit a 200-character name, 201 do not (and the error says 201)', async () => {
    const input = { companyId: 'acme', companyName: 'x', documentName: 'r.pdf', documentUrl: 'https://x.test/r.pdf' };
    const fits = await execute(api.server.url, CreateRunDocument, { input: { ...input, companyName: '🥛'.repeat(150) } }, { token });
    expect(fits.errors).toBeUndefined();
    const tooLong = await execute(api.server.url, CreateRunDocument, { input: { ...input, companyName: '🥛'.repeat(201) } }, { token });
    expect(tooLong.errors![0]!.message).toBe('input.companyName must be 1 to 200 characters (got 201)');
  });
});

it('a card whose run is deleted while the request reads it: gone or NOT_FOUND, never a broken non-null contract', async () => {
  const run = await createCompletedRun(api.db.prisma, userId, { companyId: 'vanishing' });
  await createRun(api.db.prisma, userId);
  const lock = await api.db.sql.connect();
  try {
    // Hold the Run table: the server's first statement (the cards) runs, its second (their runs) waits.
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE "Run" IN ACCESS EXCLUSIVE MODE');
    const pending = postQuery(
      api.server.url,
      'query ($r: ID) { opportunityCards(runId: $r) { edges { node { number run { id status } } } } }',
      {
        token,
        variables: { r: run.id },
      },
    );
    // Wait until the server is blocked on the lock, then delete the run (and, by cascade, its cards).
    for (let i = 0; i < 200; i++) {
      const { rows } = await api.db.sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM "public"."Run"%'`,
      );
      if (rows[0]!.n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await lock.query('DELETE FROM "Run" WHERE id = $1', [run.id]);
    await lock.query('COMMIT');
    const response = await pending;
    // Cards and their runs are read in one statement (relation joins), so the card is gone with its run; were
    // they read apart, the card would answer NOT_FOUND for its run. Never a broken non-null contract.
    const edges = (response.data as { opportunityCards?: { edges: unknown[] } } | null | undefined)?.opportunityCards?.edges;
    if (codesOf(response).length) expect(new Set(codesOf(response))).toEqual(new Set(['NOT_FOUND']));
    else expect(edges).toEqual([]);
    expect(JSON.stringify(response.errors ?? [])).not.toMatch(/Cannot return null/);
  } finally {
    await lock.query('ROLLBACK').catch(() => undefined);
    lock.release();
  }
  // Unaffected reads still work.
  expect(dataOf(await execute(api.server.url, RunsDocument, { first: 1 }, { token })).runs.edges).toHaveLength(1);
});
