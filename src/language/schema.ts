import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { YamlPath } from './yamlDocument';

/** A node of the JSON schema, as far as completion and hover read it. */
export interface SchemaNode {
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  $ref?: string;
  definitions?: Record<string, SchemaNode>;
}

/** schemas/mlops.schema.json: beside dist/ in the package, above out/ in tests. */
function locateSchema(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'schemas', 'mlops.schema.json');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`schemas/mlops.schema.json is missing above ${__dirname}; reinstall the extension.`);
}

/** The published schema of mlops.yaml: validation for diagnostics, and its keys and descriptions for completion and hover. */
export class MlopsSchema {
  private readonly validate: ValidateFunction;

  constructor(readonly root: SchemaNode = JSON.parse(fs.readFileSync(locateSchema(), 'utf8')) as SchemaNode) {
    this.validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(root);
  }

  /** Every way `data` breaks the schema (none when it fits). */
  errors(data: unknown): ErrorObject[] {
    return this.validate(data) ? [] : [...(this.validate.errors ?? [])];
  }

  /** The schema of the value at `path`, following $ref, additionalProperties and items; undefined where it says nothing. */
  at(path: YamlPath): SchemaNode | undefined {
    let node: SchemaNode | undefined = this.resolve(this.root);
    for (const segment of path) {
      if (!node) return undefined;
      const list: SchemaNode | undefined = node.oneOf?.map((n) => this.resolve(n)).find((n) => n.items);
      if (typeof segment === 'number') node = node.items ?? list?.items;
      else node = node.properties?.[segment] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
      node = node && this.resolve(node);
    }
    return node;
  }

  private resolve(node: SchemaNode): SchemaNode {
    if (!node.$ref) return node;
    const target = this.root.definitions?.[node.$ref.replace('#/definitions/', '')];
    return target ? { ...this.resolve(target), ...(node.description ? { description: node.description } : {}) } : node;
  }
}
