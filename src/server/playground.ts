import { renderGraphiQL } from '@graphql-yoga/render-graphiql';

const DEFAULT_QUERY = `# The AINexLayer License Manager.
# Put your API token in the Headers tab: { "Authorization": "Bearer alm_..." }

query Licenses {
  licenses(first: 10) {
    nodes { id type status keyHint organization { name } plan { name } seatsInUse }
    pageInfo { hasNextPage endCursor }
  }
}
`;

let page: string | undefined;

/**
 * GraphiQL in one self-contained page (scripts, styles and workers inlined), so that the playground works on a
 * host with no internet. Rendered once, on first request.
 */
export function playgroundPage(): string {
  page ??= renderGraphiQL({
    title: 'AINexLayer License Manager',
    endpoint: '/graphql',
    subscriptionsProtocol: 'WS',
    defaultQuery: DEFAULT_QUERY,
    shouldPersistHeaders: true,
  });
  return page;
}
