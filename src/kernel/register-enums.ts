import { registerEnumType } from 'type-graphql';

/**
 * Registers enums with the schema, each under the name it has in the code: `registerEnums({ LicenseType })` is the
 * GraphQL enum `LicenseType`, so that no name is written twice. An enum with a description, or named otherwise in the
 * schema, is registered with `registerEnumType` itself.
 */
export function registerEnums(enums: Record<string, object>): void {
  for (const [name, values] of Object.entries(enums)) registerEnumType(values, { name });
}
