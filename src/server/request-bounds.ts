import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  getNullableType,
  isListType,
  parse,
  type ValidationRule,
  validate,
} from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { AppError, ErrorCode } from '../errors';
import type { GraphQLContext } from './context';

/**
 * The most a request may ask, checked before it runs on every lane (Apollo, the client lane, subscriptions). Each
 * is far above what the product's own operations and the playground's introspection need (the largest test
 * operation has 240 tokens, depth 5, no alias; a full introspection has about 180 tokens, depth 10, and costs about
 * 50,000 as the schema stands), and far below what makes a request expensive: a thousand aliases of `__schema` is
 * 7,000 tokens, thirty aliases of a 200-license page with nested lists cost millions.
 */
export interface RequestLimits {
  /** Lexical tokens in the document: bounds the work of parsing and validating it. */
  tokens: number;
  /** Fields nested in fields. */
  depth: number;
  aliases: number;
  directives: number;
  /** One per field, each multiplied by the page size of the connection it is in (`first`), or by 10 in an unpaged list. */
  cost: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { tokens: 2_000, depth: 15, aliases: 30, directives: 20, cost: 100_000 };

/** How many items an unpaged list field is assumed to hold. */
const LIST_SIZE = 10;
/** Sets of variables whose cost a document keeps (see `RequestBounds.checkCost`), and the longest kept. */
const MAX_COSTS_PER_DOCUMENT = 100;
const MAX_COST_KEY_LENGTH = 2_000;

type Limit = keyof RequestLimits;

function tooComplex(limit: Limit, maximum: number, message: string): AppError {
  return new AppError(ErrorCode.QUERY_TOO_COMPLEX, message, { limit, maximum, http: { status: 400 } });
}

/**
 * A connection's fields cost one page of nodes: `first` (with its default) times what each node asks; its `nodes`
 * are that page, counted once. Other lists are assumed to hold LIST_SIZE items.
 */
const pageEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  if (typeof args.first === 'number') return 1 + Math.max(args.first, 0) * childComplexity;
  if (type.name.endsWith('Connection') && (field.name === 'nodes' || field.name === 'edges')) return 1 + childComplexity;
  if (isListType(getNullableType(field.type))) return 1 + LIST_SIZE * childComplexity;
  return undefined;
};

function hasNul(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  // Loops, not `some` over `Object.entries`: this runs on the variables of every request.
  if (Array.isArray(value)) {
    for (const item of value) if (hasNul(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && (key.includes('\u0000') || hasNul((value as Record<string, unknown>)[key], depth + 1))) return true;
  }
  return false;
}

/**
 * Responsible for bounding what a request asks before any of it runs: its size in tokens when it is parsed, then
 * its depth, aliases and directives (GraphQL Armor's rules, run alone, before graphql-js's own validation, which
 * is itself costly on a hostile document), then its cost with its variables. A request past a bound is refused
 * with QUERY_TOO_COMPLEX, naming the bound (`extensions.limit`) and its `maximum`.
 */
export class RequestBounds {
  private readonly shapeRules: { limit: Limit; rule: ValidationRule }[];

  constructor(
    private readonly schema: GraphQLSchema,
    readonly limits: RequestLimits = DEFAULT_REQUEST_LIMITS,
  ) {
    this.shapeRules = [
      { limit: 'depth', rule: maxDepthRule({ n: limits.depth, ignoreIntrospection: false, flattenFragments: true }) },
      { limit: 'aliases', rule: maxAliasesRule({ n: limits.aliases, allowList: [] }) },
      { limit: 'directives', rule: maxDirectivesRule({ n: limits.directives }) },
    ];
  }

  /** Parses a document, refusing one of more tokens than the limit; a syntax error is thrown as graphql-js's. */
  parse(source: string): DocumentNode {
    try {
      return parse(source, { maxTokens: this.limits.tokens });
    } catch (error) {
      // graphql-js says "contains more that N tokens".
      if (error instanceof GraphQLError && /contains more th\w+ \d+ tokens/.test(error.message)) {
        throw tooComplex('tokens', this.limits.tokens, `The document has more than ${this.limits.tokens} tokens.`);
      }
      throw error;
    }
  }

  /** What checkShape found for documents seen already (Apollo hands the same parsed document again for the same text). */
  private readonly shapes = new WeakMap<DocumentNode, AppError | null>();

  /** The first bound of depth, aliases or directives the document passes, as the error to answer; undefined if none. */
  checkShape(document: DocumentNode): AppError | undefined {
    let found = this.shapes.get(document);
    if (found === undefined) {
      found = this.shapeOf(document) ?? null;
      this.shapes.set(document, found);
    }
    // A new error each time: the same one thrown for several requests could carry one's request id into another's.
    return found ? new AppError(found.code, found.message, { ...found.extensions }) : undefined;
  }

  private shapeOf(document: DocumentNode): AppError | undefined {
    for (const { limit, rule } of this.shapeRules) {
      try {
        validate(this.schema, document, [rule]);
      } catch (error) {
        // Armor's rules throw what they reject.
        if (!(error instanceof GraphQLError)) throw error;
        return tooComplex(limit, this.limits[limit], error.message.replace(/^Syntax Error: /, ''));
      }
    }
    return undefined;
  }

  /** What a document costs with these variables; throws when the variables do not fit it. */
  costOf(document: DocumentNode, variables?: Record<string, unknown>, operationName?: string | null): number {
    return getComplexity({
      schema: this.schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [pageEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  }

  /**
   * Costs found for a document, by operation and variables: five thousand subscribers sending one subscription with
   * the same variables cost one walk of its document, not five thousand (a tenth of subscribing them, profiled).
   */
  private readonly costs = new WeakMap<DocumentNode, Map<string, number | null>>();

  /** The document's cost for these variables, or the error to answer when it is past the limit. */
  checkCost(document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): AppError | undefined {
    const cost = this.costWith(document, variables, operationName);
    // null: variables that do not fit the operation, which execution refuses with its own error.
    if (cost === null || cost <= this.limits.cost) return undefined;
    return tooComplex(
      'cost',
      this.limits.cost,
      `The request costs ${cost}, over the limit of ${this.limits.cost}: ask for smaller pages or fewer fields.`,
    );
  }

  private costWith(document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): number | null {
    const key = `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}`;
    let known = this.costs.get(document);
    const remembered = known?.get(key);
    if (remembered !== undefined) return remembered;
    let cost: number | null;
    try {
      cost = this.costOf(document, variables, operationName);
    } catch {
      cost = null;
    }
    // Large variables are walked each time rather than kept; a document keeps its last few sets of variables.
    if (key.length <= MAX_COST_KEY_LENGTH) {
      if (!known) {
        known = new Map();
        this.costs.set(document, known);
      }
      if (known.size >= MAX_COSTS_PER_DOCUMENT) known.delete(known.keys().next().value!);
      known.set(key, cost);
    }
    return cost;
  }

  /**
   * Text no database stores: the NUL character, in the document (as itself or as the escape `\u0000`; null when the
   * document was checked already) or in any variable. Refused where it enters, as BAD_USER_INPUT, rather than
   * failing a statement later.
   */
  checkText(source: string | null, variables: unknown): AppError | undefined {
    const inSource = source !== null && (source.includes('\u0000') || /\\u0000/i.test(source));
    return inSource || hasNul(variables, 0) ? AppError.badInput('Text may not contain the NUL character (U+0000).') : undefined;
  }

  /** Every check on a parsed document, in order. */
  check(document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): AppError | undefined {
    return this.checkShape(document) ?? this.checkCost(document, variables, operationName);
  }
}

/**
 * Apollo's part: every check on each operation with its variables, once Apollo has parsed it (within the token
 * limit) and validated it. POST bodies were checked for shape by the client lane already; this covers GET.
 */
export function boundsPlugin(bounds: RequestBounds): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const refused =
            bounds.checkText(request.query ?? '', request.variables) ?? bounds.check(document, request.variables, request.operationName);
          if (refused) throw refused;
        },
      };
    },
  };
}
