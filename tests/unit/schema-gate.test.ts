/** The schema-change policy (scripts/support/schema-gate.ts): which breaking changes pass, and what they need. */
import { judgeSchemaChange } from '../../scripts/support/schema-gate';

const BEFORE = `
"Q" type Query { "a" run: Run "b" legacy: String @deprecated(reason: "Use run. Removal after 2026-06-01") }
"R" type Run { "i" id: ID! "s" status: Status! "n" name: String }
"S" enum Status { "p" PENDING "d" DONE }
`;
const on = (day: string, message = '') => ({ date: new Date(`${day}T12:00:00Z`), message });

it('adding a field breaks nothing', async () => {
  const after = BEFORE.replace('"n" name: String', '"n" name: String "c" createdAt: String');
  expect((await judgeSchemaChange(BEFORE, after, on('2026-12-02'))).refused).toEqual([]);
});

it.each([
  ['removing a field', BEFORE.replace('"n" name: String', '')],
  ['changing a field’s type', BEFORE.replace('"n" name: String', '"n" name: Int')],
  ['removing an enum value', BEFORE.replace('"d" DONE', '')],
  ['making a field nullable that was not', BEFORE.replace('"i" id: ID!', '"i" id: ID')],
])('%s is refused, saying how to go about it', async (_label, after) => {
  const { refused } = await judgeSchemaChange(BEFORE, after, on('2026-12-02'));
  expect(refused).toHaveLength(1);
  expect(refused[0]).toMatch(/Schema-Breaking: <why>/);
});

it('a commit saying `Schema-Breaking: <why>` lets a breaking change through', async () => {
  const after = BEFORE.replace('"n" name: String', '');
  const judged = await judgeSchemaChange(BEFORE, after, on('2026-12-02', 'Drop Run.name\n\nSchema-Breaking: no client ever read it'));
  expect(judged.refused).toEqual([]);
  expect(judged.allowed[0]).toMatch(/marked intentional/);
});

it('a deprecated field may go once its removal date has come, not before', async () => {
  const after = BEFORE.replace(/"b" legacy: String @deprecated\([^)]*\)/, '');
  expect((await judgeSchemaChange(BEFORE, after, on('2026-05-31'))).refused[0]).toMatch(/deprecated until 2026-06-01: wait/);
  const judged = await judgeSchemaChange(BEFORE, after, on('2026-06-01'));
  expect(judged.refused).toEqual([]);
  expect(judged.allowed[0]).toMatch(/the date has come/);
});

it('a new deprecation must name its removal date, at least 90 days out', async () => {
  const deprecate = (reason: string) => BEFORE.replace('"n" name: String', `"n" name: String @deprecated(reason: "${reason}")`);
  const without = await judgeSchemaChange(BEFORE, deprecate('Use title'), on('2026-12-02'));
  expect(without.refused[0]).toMatch(/Run\.name .* must say "Removal after YYYY-MM-DD", 90 days out at least \(2027-03-02 or later\)/);
  expect((await judgeSchemaChange(BEFORE, deprecate('Use title. Removal after 2027-01-01'), on('2026-12-02'))).refused).toHaveLength(1);
  expect((await judgeSchemaChange(BEFORE, deprecate('Use title. Removal after 2027-03-02'), on('2026-12-02'))).refused).toEqual([]);
});
