import fc from 'fast-check';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from './support/databases';
import { issueToken, licensed } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const RUNS = Number(process.env.FUZZ_RUNS ?? 2_500);

/** Ids and keys that exist (filled in by the set-up), so that generated operations reach past their lookups. */
const known: string[] = [];

/** Strings an attacker tries: empty, huge, control characters, SQL, paths, markup, look-alike keys and tokens. */
const hostileText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    "' OR 1=1 --",
    '"; drop table license; --',
    '../../../../etc/passwd',
    '\u0000',
    '<script>alert(1)</script>',
    'AINX-AAAAAAAA-AAAAAAAA-AAAAAAAA-AAAAAAAA',
    `alm_${'x'.repeat(43)}`,
    '01900000-0000-7000-8000-000000000000',
    'Bearer',
    '%s%s%s%n',
    '9'.repeat(400),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constant('x'.repeat(20_000)),
);
const hostileString = fc.oneof(
  hostileText,
  fc.constant(null).chain(() => (known.length ? fc.constantFrom(...known) : hostileText)),
);
const hostileInt = fc.oneof(
  fc.constantFrom(0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e300),
  fc.integer(),
);
const hostileDate = fc.oneof(
  fc.constantFrom('1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', 'yesterday'),
  fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'not a date' : d.toISOString())),
);

/** A value for an input type: mostly of the right shape with hostile contents, sometimes of the wrong shape. */
function inputValue(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type))
    return fc.oneof({ weight: 9, arbitrary: inputValue(type.ofType, depth) }, { weight: 1, arbitrary: fc.constant(null) });
  if (isListType(type)) {
    return fc.oneof(
      fc.array(inputValue(type.ofType as GraphQLInputType, depth + 1), { maxLength: depth > 1 ? 1 : 4 }),
      fc.constant(null),
      hostileString,
    );
  }
  const named = getNamedType(type) as GraphQLNamedType;
  if (isEnumType(named))
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...named.getValues().map((v) => v.name)) },
      { weight: 1, arbitrary: hostileString },
    );
  if (isInputObjectType(named)) {
    if (depth > 3) return fc.constant(null);
    const fields = Object.values(named.getFields());
    return fc.record(Object.fromEntries(fields.map((f) => [f.name, inputValue(f.type, depth + 1)])), { requiredKeys: [] });
  }
  if (isScalarType(named)) {
    switch (named.name) {
      case 'Int':
      case 'SafeInt':
      case 'Float':
        return fc.oneof({ weight: 4, arbitrary: hostileInt }, { weight: 1, arbitrary: hostileString });
      case 'Boolean':
        return fc.oneof(fc.boolean(), hostileString);
      case 'DateTimeISO':
      case 'DateTime':
        return hostileDate;
      default:
        return hostileString;
    }
  }
  return fc.constant(null);
}

const gqlType = (type: GraphQLInputType): string => type.toString();

/** The scalar fields of a type (and of the objects directly below it), for a selection that asks a little of everything. */
function selectionOf(type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (!isObjectType(named)) return '{ __typename }';
  const parts = ['__typename'];
  for (const field of Object.values(named.getFields())) {
    if (field.args.some((a) => isNonNullType(a.type))) continue;
    const inner = getNamedType(field.type);
    if (isLeafType(inner)) parts.push(field.name);
    else if (depth < 1) parts.push(`${field.name} ${selectionOf(field.type, depth + 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}

interface Case {
  kind: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
  variables: Record<string, unknown>;
  caller: number;
}

for (const kind of DATABASE_KINDS)
  describe(`schema-driven fuzzing with hostile values (seeded) [${kind}]`, () => {
    let t: TestServer;
    let tokens: (string | null)[] = [];

    beforeAll(async () => {
      known.length = 0;
      t = await startTestServer(kind);
      const user = await licensed(t, 'USER');
      const concurrent = await licensed(t, 'CONCURRENT', { organizationId: user.organizationId });
      const organizationId = user.organizationId;
      for (const l of [user, concurrent]) known.push(l.licenseId, l.key, l.organizationId, l.planId, l.productId);
      known.push('premium.analytics', 'core.inference', 'ada@example.com');
      tokens = [
        t.admin,
        null,
        (await issueToken(t, 'INTEGRATOR', organizationId)).secret,
        (await issueToken(t, 'ORG_ADMIN', organizationId)).secret,
      ];
    });

    afterAll(async () => {
      await t?.close();
    });

    it(`answers ${RUNS} generated operations with coded errors only: no internal error, no stack trace, SQL or path`, async () => {
      const schema = t.server.schema;
      const roots = [
        ['query', schema.getQueryType()!],
        ['mutation', schema.getMutationType()!],
      ] as const;
      const fields = roots.flatMap(([kind, root]) => Object.values(root.getFields()).map((field) => ({ kind, field })));
      const caseOf = fc.constantFrom(...fields).chain(({ kind, field }) =>
        fc.record({
          kind: fc.constant(kind),
          field: fc.constant(field as GraphQLField<unknown, unknown>),
          variables: fc.record(Object.fromEntries(field.args.map((a: GraphQLArgument) => [a.name, inputValue(a.type)])), {
            requiredKeys: [],
          }),
          caller: fc.nat({ max: 3 }),
        }),
      );
      const cases: Case[] = fc.sample(caseOf, { seed: SEED, numRuns: RUNS });

      const problems: string[] = [];
      const codes = new Map<string, number>();
      for (const [i, c] of cases.entries()) {
        const definitions = c.field.args.map((a) => `$${a.name}: ${gqlType(a.type)}`).join(', ');
        const args = c.field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
        const query = `${c.kind} Fuzz${definitions ? `(${definitions})` : ''} { ${c.field.name}${args ? `(${args})` : ''} ${selectionOf(c.field.type)} }`;
        const token = tokens[c.caller] ?? null;
        let response: Response;
        try {
          response = await fetch(t.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
            body: JSON.stringify({ query, variables: c.variables }),
          });
        } catch (error) {
          problems.push(`#${i} ${c.field.name}: no answer (${(error as Error).message})`);
          break;
        }
        const text = await response.text();
        let body: { errors?: { message: string; extensions?: Record<string, unknown> }[] };
        try {
          body = JSON.parse(text);
        } catch {
          problems.push(`#${i} ${c.field.name}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
          continue;
        }
        for (const error of body.errors ?? []) {
          const code = String(error.extensions?.code ?? 'NO CODE');
          codes.set(code, (codes.get(code) ?? 0) + 1);
          if (code === 'INTERNAL_SERVER_ERROR' || code === 'NO CODE') {
            problems.push(`#${i} ${c.field.name}: ${code} ${error.message} ${JSON.stringify(c.variables).slice(0, 300)}`);
          }
          if (
            /\n\s+at |node_modules|\/src\/|\bselect\b.+\bfrom\b|\binsert into\b|SQLITE_|pg_|knex/i.test(
              `${error.message} ${JSON.stringify(error.extensions)}`,
            )
          ) {
            problems.push(`#${i} ${c.field.name}: leaks in "${error.message.slice(0, 200)}"`);
          }
        }
      }
      console.log(
        `Fuzz [${kind}] (seed ${SEED}, ${cases.length} operations): ${[...codes]
          .sort()
          .map(([code, n]) => `${code} ${n}`)
          .join(', ')}`,
      );
      expect(problems.slice(0, 20)).toEqual([]);
      // Still serving.
      expect((await (await fetch(t.url.replace('/graphql', '/livez'))).json()).status).toBe('alive');
    }, 300_000);
  });
