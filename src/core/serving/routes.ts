import { Batcher, type BatchOptions } from './batcher';
import type { ServingMetrics } from './metrics';
import { ModelSession } from './modelSession';
import { checkProcessing, type Processing } from './processing';

/** One model version a deployment serves, and the share of traffic it gets. */
export interface VariantSpec {
  /** "primary"; in an A/B split "a" and "b"; "shadow" for the mirrored challenger. */
  variant: string;
  model: string;
  version: string;
  /** The .onnx file (absolute). */
  file: string;
  /** Relative share of traffic; ignored for a shadow. */
  weight: number;
  /** A version of the model registry (not a bare file). */
  registered?: boolean;
}

/** Where requests go: the served variants (weighted, sticky by a key) and an optional shadow. */
export interface RoutesSpec {
  variants: VariantSpec[];
  shadow?: VariantSpec;
  /** A request's key for sticky A/B assignment: this header, or this field of the body's `parameters`/`params`. */
  stickyKey?: string;
}

export interface LoadedVariant {
  spec: VariantSpec;
  session: ModelSession;
  batcher: Batcher;
}

/** FNV-1a of the key, as a number in [0, 1): the same key lands on the same variant. */
function unitHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche so keys differing in their last character spread across [0, 1).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}

/** A loaded routing table. Requests take the table current when they start, so a switch never changes one midway. */
export class Routes {
  private readonly total: number;

  private constructor(readonly spec: RoutesSpec, readonly variants: LoadedVariant[], readonly shadow: LoadedVariant | undefined) {
    this.total = variants.reduce((a, v) => a + v.spec.weight, 0);
  }

  /**
   * Loads and warms every session the spec needs, reusing those of `previous` for the same
   * file; a file that fails to load or run fails the whole table and leaves `previous` serving.
   */
  static async load(spec: RoutesSpec, options: { threads: number; batching: BatchOptions; processing: Processing; metrics: ServingMetrics }, previous?: Routes): Promise<Routes> {
    if (!spec.variants.length) throw new Error('A deployment needs at least one model version to serve.');
    if (spec.variants.some((v) => !(v.weight >= 0)) || spec.variants.every((v) => v.weight === 0)) throw new Error('Variant weights must be numbers ≥ 0, not all 0.');
    const reusable = new Map((previous ? [...previous.variants, ...(previous.shadow ? [previous.shadow] : [])] : []).map((v) => [v.spec.file, v]));
    const fresh: ModelSession[] = [];
    const loadOne = async (s: VariantSpec): Promise<LoadedVariant> => {
      const old = reusable.get(s.file);
      let session = old?.session;
      if (!session) {
        try {
          session = await ModelSession.load(s.file, options.threads);
          fresh.push(session);
          checkProcessing(options.processing, session.inputs, session.outputs);
          await session.warm();
        } catch (err) {
          throw new Error(`${s.model} version ${s.version} (${s.file}) cannot serve: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      const { metrics } = options;
      return { spec: s, session, batcher: old?.batcher ?? new Batcher(session, options.batching, (rows) => metrics.of(s).ran(rows)) };
    };
    try {
      const variants = [];
      for (const s of spec.variants) variants.push(await loadOne(s));
      const shadow = spec.shadow ? await loadOne(spec.shadow) : undefined;
      return new Routes(spec, variants, shadow);
    } catch (err) {
      await Promise.all(fresh.map((s) => s.release()));
      throw err;
    }
  }

  /** The variant for a request: by its sticky key when it has one, else at random, by weight. */
  pick(key: string | undefined): LoadedVariant {
    if (this.variants.length === 1) return this.variants[0];
    let at = (key ? unitHash(key) : Math.random()) * this.total;
    for (const v of this.variants) {
      at -= v.spec.weight;
      if (at < 0) return v;
    }
    return this.variants[this.variants.length - 1];
  }

  /** The loaded variant serving this version, for `/versions/{v}` requests. */
  byVersion(version: string): LoadedVariant | undefined {
    return this.variants.find((v) => v.spec.version === version);
  }

  /** Sessions this table holds that `next` does not: released once their requests finish. */
  async drainInto(next: Routes): Promise<void> {
    const kept = new Set([...next.variants, ...(next.shadow ? [next.shadow] : [])].map((v) => v.session));
    const gone = [...new Set([...this.variants, ...(this.shadow ? [this.shadow] : [])].map((v) => v.session))].filter((s) => !kept.has(s));
    for (const s of gone) {
      while (s.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
      await s.release();
    }
  }
}
