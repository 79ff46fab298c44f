import { type ValidationError, type ValidatorOptions, validateSync } from 'class-validator';
import { type GraphQLResolveInfo, getNamedType } from 'graphql';
import { getMetadataStorage, type ValidatorFn } from 'type-graphql';
import { AppError, type InputProblem } from '../errors';

const OPTIONS: ValidatorOptions = {
  // Absent and null values are the schema's to refuse (a nullable field may be left out); a value given is checked.
  skipMissingProperties: true,
  forbidUnknownValues: false,
  validationError: { target: false, value: false },
};

/**
 * The argument whose fields are named without it, as the services name them: `limits.namedUsers` in
 * `issueLicense(input: …)`, while other arguments lead their paths (`target.limits.namedUsers`).
 */
const UNNAMED_ARGUMENT = 'input';

/**
 * Checks an argument against its class-validator constraints (on every input type and args type, at any depth),
 * and refuses it as BAD_USER_INPUT naming the path of the first value at fault, as the services name theirs, with
 * every problem in `extensions.errors` when there are several. It runs synchronously, so that when several arguments
 * fail, the first argument's problems are the ones answered.
 */
export const validateInput: ValidatorFn = (value, type, { info }) => {
  if (value === null || typeof value !== 'object') return;
  const list = Array.isArray(value);
  const failed = list ? value.map(errorsOf) : [errorsOf(value)];
  if (failed.every((errors) => errors.length === 0)) return;
  // Found only once something failed: arguments are checked on every call, and on every event of a subscription.
  const path = argumentPath(type, info);
  const problems = failed.flatMap((errors, index) => errors.flatMap((error) => problemsAt(error, list ? `${path}[${index}]` : path)));
  const [first] = problems;
  if (first) throw AppError.badInput(first.message, first.field, problems.length > 1 ? problems : undefined);
};

/**
 * Where the fields of an argument of this type start: nowhere for an args type (its fields are the arguments
 * themselves) or for the `input` argument, else at the argument's name. No field takes two arguments of one input
 * type (a test holds the schema to that), so the type tells which argument this is.
 */
function argumentPath(type: unknown, info: GraphQLResolveInfo): string {
  const inputType = getMetadataStorage().inputTypes.find((t) => t.target === type);
  if (!inputType) return '';
  const argument = info.parentType.getFields()[info.fieldName]?.args.find((arg) => getNamedType(arg.type).name === inputType.name);
  return !argument || argument.name === UNNAMED_ARGUMENT ? '' : argument.name;
}

function errorsOf(value: unknown): ValidationError[] {
  return value !== null && typeof value === 'object' ? validateSync(value, OPTIONS) : [];
}

/** The problems of one property and of what it contains, depth first, in the order of their declaration. */
function problemsAt(error: ValidationError, parent: string): InputProblem[] {
  // Elements of a list validated one by one are reported under their index.
  const field = /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : parent ? `${parent}.${error.property}` : error.property;
  const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message: sentence(message, error.property, field) }));
  return [...own, ...(error.children ?? []).flatMap((child) => problemsAt(child, field))];
}

/**
 * class-validator's message with the property named by its whole path, as a sentence: "namedUsers must not be less
 * than 0" becomes "`limits.namedUsers` must not be less than 0.".
 */
function sentence(message: string, property: string, field: string): string {
  const quoted = `\`${field}\``;
  const each = `each value in ${property} `;
  const text = message.startsWith(`${property} `)
    ? `${quoted}${message.slice(property.length)}`
    : message.startsWith(each)
      ? `Each value in ${quoted} ${message.slice(each.length)}`
      : `${quoted}: ${message}`;
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
