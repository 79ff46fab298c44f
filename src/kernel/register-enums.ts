import { registerEnumType } from 'type-graphql';

/** What the schema says of an enum and of each of its values, for the readers of the API. */
export interface EnumDocs<E extends object> {
  description: string;
  values: Record<keyof E, string>;
}

/**
 * Registers enums with the schema, each under the name it has in the code: `registerEnums({ LicenseType })` is the
 * GraphQL enum `LicenseType`, so that no name is written twice. `docs` describes them (every value of an enum it
 * names). An enum named otherwise in the schema is registered with `registerEnumType` itself.
 */
export function registerEnums<T extends Record<string, object>>(enums: T, docs: { [N in keyof T]?: EnumDocs<T[N]> } = {}): void {
  for (const [name, values] of Object.entries(enums)) {
    const doc: EnumDocs<object> | undefined = docs[name];
    registerEnumType(values, { name, description: doc?.description, valuesConfig: doc && valuesConfigOf(doc) });
  }
}

/** The `valuesConfig` of `registerEnumType` that gives each value its description. */
function valuesConfigOf(doc: EnumDocs<object>): Record<string, { description: string }> {
  return Object.fromEntries(Object.entries<string>(doc.values).map(([value, description]) => [value, { description }]));
}
