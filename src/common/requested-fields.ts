import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';

/**
 * Whether the operation asks, anywhere below the field being resolved, for a field of this name: through nested
 * fields, inline fragments and named fragments alike. Lets a resolver leave out the costly part of an answer that no
 * one asked for.
 */
export function requestsField(info: GraphQLResolveInfo, name: string): boolean {
  const seen = new Set<string>();
  const within = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((selection) => {
      switch (selection.kind) {
        case Kind.FIELD:
          return selection.name.value === name || within(selection.selectionSet);
        case Kind.INLINE_FRAGMENT:
          return within(selection.selectionSet);
        case Kind.FRAGMENT_SPREAD: {
          if (seen.has(selection.name.value)) return false;
          seen.add(selection.name.value);
          return within(info.fragments[selection.name.value]?.selectionSet);
        }
        default:
          return false;
      }
    });
  return info.fieldNodes.some((node) => within(node.selectionSet));
}
