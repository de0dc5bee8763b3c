import * as fs from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';

type Schema = Record<string, unknown>;

/**
 * As the API server reads a CRD's schema with strict field validation (kubectl's default):
 * a field the schema does not name is an error, unless the object keeps unknown fields.
 */
function strictFields(schema: unknown): void {
  if (Array.isArray(schema)) return schema.forEach(strictFields);
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as Schema;
  if (s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) s.additionalProperties = false;
  for (const value of Object.values(s)) strictFields(value);
}

/** A validator for objects of a CustomResourceDefinition, from its openAPIV3Schema (JSON). */
export function crdValidator(schemaFile: string): (object: unknown) => string[] {
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as Schema;
  strictFields(schema);
  // strictTypes off: Kubernetes puts a string `pattern` beside int-or-string's anyOf (a quantity), which JSON Schema applies to strings only, as Kubernetes does.
  const ajv = new Ajv({ allErrors: true, strictTypes: false });
  // Kubernetes' own schema keywords: structural hints the API server reads, no validation of their own here.
  ajv.addVocabulary(['x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-preserve-unknown-fields']);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  const validate = ajv.compile(schema);
  return (object) => (validate(object) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`));
}
