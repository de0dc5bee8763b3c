import type { YamlPath } from './yamlDocument';

/** The kinds of names mlops.yaml refers to, each known from somewhere else (runs, the registry, the file itself). */
export type NameKind = 'metric' | 'param' | 'stage' | 'model' | 'target';

/** Blocks whose `stage:`, `model:`, `target:` and `metric:` values name things declared elsewhere (issues 13–14's retrain and sweeps). */
const REFERRING_BLOCKS = new Set(['retrain', 'sweeps']);
const REFERENCE_KEYS: Record<string, NameKind> = { stage: 'stage', model: 'model', target: 'target', metric: 'metric', objective: 'metric' };

/**
 * What the key or scalar value at `path` names, if anything: an objective's key is a metric, a
 * stage's param a run parameter, a stage's key a stage, and `stage:`/`model:`/`target:`/`metric:`
 * inside retrain and sweeps what they say. Gates hold a metric inside an expression (see gateMetric).
 */
export function nameKindAt(path: YamlPath, on: 'key' | 'value'): NameKind | undefined {
  const [top, second, third] = path;
  if (on === 'key') {
    if (top === 'objectives' && path.length === 2) return 'metric';
    if (top === 'stages' && path.length === 2) return 'stage';
    return undefined;
  }
  if (top === 'stages' && third === 'params' && second !== undefined) return 'param';
  const last = path[path.length - 1];
  if (REFERRING_BLOCKS.has(String(top)) && typeof last === 'string') return REFERENCE_KEYS[last];
  return undefined;
}

/** The metric a gate expression starts with, and where in the text it lies. */
export function gateMetric(text: string): { metric: string; start: number } | undefined {
  const m = /^(\s*)([A-Za-z_][\w./-]*)/.exec(text);
  return m ? { metric: m[2], start: m[1].length } : undefined;
}
