import type { ErrorObject } from 'ajv';
import type { Diagnostic } from 'vscode-languageserver';
import { problem } from './configChecks';
import type { MlopsSchema, SchemaNode } from './schema';
import type { YamlDocument, YamlPath } from './yamlDocument';

const WORDS: Record<string, string> = { string: 'a text', number: 'a number', integer: 'a whole number', array: 'a list', object: 'a mapping', boolean: 'true or false', null: 'empty' };
const PLURALS: Record<string, string> = { string: 'texts', number: 'numbers', integer: 'whole numbers', object: 'mappings' };
const words = (types: unknown): string => [types].flat().map((t) => WORDS[String(t)] ?? String(t)).join(' or ');
const plural = (types: unknown): string => [types].flat().map((t) => PLURALS[String(t)] ?? 'values').join(' or ');

function pathOf(pointer: string): YamlPath {
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const isUnder = (path: YamlPath, prefix: YamlPath) => prefix.every((p, i) => String(path[i]) === String(p));

/** A schema error in the user's words, on the key or value it is about. */
function toDiagnostic(doc: YamlDocument, e: ErrorObject): Diagnostic {
  const path = pathOf(e.instancePath);
  const name = path.length ? `"${path.join('.')}"` : 'mlops.yaml';
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as SchemaNode | undefined)?.properties ?? {});
      return problem(doc, [...path, String(params.additionalProperty)], `Unknown key "${String(params.additionalProperty)}" in ${name}; it takes ${known.join(', ')}.`);
    }
    case 'required':
      return problem(doc, path, `${name} needs "${String(params.missingProperty)}".`);
    case 'type':
      return problem(doc, path, `${name} must be ${words(params.type)}.`, { prefer: 'value' });
    case 'enum':
      return problem(doc, path, `${name} must be one of ${(params.allowedValues as unknown[]).join(', ')}.`, { prefer: 'value' });
    case 'oneOf':
    case 'anyOf': {
      const branches = ((e.parentSchema as SchemaNode | undefined)?.oneOf ?? []).map((b) => (b.type === 'array' ? `a list of ${plural(b.items?.type)}` : words(b.type)));
      return problem(doc, path, `${name} must be ${branches.join(' or ') || 'something else'}.`, { prefer: 'value' });
    }
    case 'propertyNames':
      return problem(doc, [...path, String(params.propertyName)], `"${String(params.propertyName)}" may hold letters, digits, ".", "_" and "-" only.`);
    case 'pattern':
      return problem(doc, path, `${name} does not fit the form ${String(params.pattern)}.`, { prefer: 'value' });
    default:
      return problem(doc, path, `${name} ${e.message ?? 'does not fit the schema'}.`, { prefer: 'value' });
  }
}

/**
 * The schema's complaints, one per place: the errors inside a oneOf's branches fold into the
 * oneOf, and places the engine's own readers already judged (`judged`) are left to them.
 */
export function checkSchema(doc: YamlDocument, schema: MlopsSchema, judged: YamlPath[]): Diagnostic[] {
  const errors = schema.errors(doc.data);
  const inside = (e: ErrorObject, f: ErrorObject) =>
    e !== f && e.schemaPath.startsWith(`${f.schemaPath}/`) && (e.instancePath === f.instancePath || e.instancePath.startsWith(`${f.instancePath}/`));
  const folded = errors.filter((f) => f.keyword === 'oneOf' || f.keyword === 'anyOf' || f.keyword === 'propertyNames');
  return errors
    .filter((e) => !folded.some((f) => inside(e, f)))
    .filter((e) => !judged.some((j) => isUnder(placeOf(e), j)))
    .map((e) => toDiagnostic(doc, e));
}

/** The key an error is about: the unknown or badly named key itself, else the value's place. */
function placeOf(e: ErrorObject): YamlPath {
  const params = e.params as Record<string, unknown>;
  const key = e.keyword === 'additionalProperties' ? params.additionalProperty : e.keyword === 'propertyNames' ? params.propertyName : undefined;
  return key === undefined ? pathOf(e.instancePath) : [...pathOf(e.instancePath), String(key)];
}
