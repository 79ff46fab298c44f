import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  buildSchema,
  type GraphQLArgument,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
} from 'graphql';
import { describe, expect, it } from 'vitest';

/** The committed SDL: `npm run schema:check` keeps it equal to what the code builds and the server serves. */
const schema = buildSchema(readFileSync(resolve(__dirname, '..', 'schema', 'schema.graphql'), 'utf8'));

const undescribed = (description: string | null | undefined): boolean => !description?.trim();

/**
 * Every element of the schema a reader of the API meets, named as `Type`, `Type.field`, `Type.field(arg)`,
 * `Input.field` or `Enum.VALUE`, with no description: what a failure asks to describe.
 */
function elementsWithoutDescription(): string[] {
  const missing: string[] = [];
  const args = (owner: string, list: readonly GraphQLArgument[]) => {
    for (const arg of list) if (undescribed(arg.description)) missing.push(`${owner}(${arg.name})`);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
    if (undescribed(type.description)) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (undescribed(field.description)) missing.push(`${type.name}.${field.name}`);
        args(`${type.name}.${field.name}`, field.args);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (undescribed(field.description)) missing.push(`${type.name}.${field.name}`);
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) if (undescribed(value.description)) missing.push(`${type.name}.${value.name}`);
    }
  }
  return missing.sort();
}

describe('the schema documents itself', () => {
  it('describes every type, field, argument, input field and enum value', () => {
    expect(elementsWithoutDescription()).toEqual([]);
  });
});
