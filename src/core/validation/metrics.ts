/**
 * Model quality metrics, computed as scikit-learn does (tests compare within 1e-9).
 * Labels are class indices 0…k−1; probabilities are row-major [rows, k].
 */

export interface ClassificationMetrics {
  accuracy: number;
  /** Binary: of the positive class 1; more classes: the macro average. */
  precision: number;
  recall: number;
  f1: number;
  /** Binary only: the area under the ROC curve of the class-1 probability. */
  roc_auc?: number;
  log_loss: number;
}

export interface RegressionMetrics { rmse: number; mae: number; r2: number }

/** Class with the highest probability per row (the first on ties, as numpy's argmax). */
export function argmax(probabilities: Float64Array, classes: number): Int32Array {
  const rows = probabilities.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[r * classes + c] > probabilities[r * classes + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Rows true class × predicted class. */
export function confusionMatrix(y: Int32Array, predicted: Int32Array, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < y.length; i++) m[y[i]][predicted[i]]++;
  return m;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/**
 * Area under the ROC curve as the probability that a positive scores above a negative
 * (ties count half): equal to the trapezoidal area under the curve. Each class's scores
 * are sorted natively and then merged, so a million rows take a fraction of a second.
 */
export function rocAuc(y: Int32Array, score: Float64Array): number {
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) positives++;
  const negatives = y.length - positives;
  if (!positives || !negatives) return NaN;
  const pos = new Float64Array(positives), neg = new Float64Array(negatives);
  for (let i = 0, p = 0, n = 0; i < y.length; i++) {
    if (y[i] === 1) pos[p++] = score[i];
    else neg[n++] = score[i];
  }
  pos.sort();
  neg.sort();
  // For each positive: negatives strictly below it, plus half of those equal to it.
  let below = 0, equalEnd = 0, wins = 0;
  for (let i = 0; i < positives; i++) {
    while (below < negatives && neg[below] < pos[i]) below++;
    if (equalEnd < below) equalEnd = below;
    while (equalEnd < negatives && neg[equalEnd] === pos[i]) equalEnd++;
    wins += below + (equalEnd - below) / 2;
  }
  return wins / (positives * negatives);
}

/** Mean negative log-likelihood, probabilities clipped to [ε, 1−ε] (ε of float64) and each row renormalised, as scikit-learn 1.2. */
export function logLoss(y: Int32Array, probabilities: Float64Array, classes: number): number {
  const eps = 2.220446049250313e-16;
  let sum = 0;
  for (let r = 0; r < y.length; r++) {
    let total = 0;
    for (let c = 0; c < classes; c++) total += Math.min(1 - eps, Math.max(eps, probabilities[r * classes + c]));
    sum -= Math.log(Math.min(1 - eps, Math.max(eps, probabilities[r * classes + y[r]])) / total);
  }
  return sum / y.length;
}

export function classificationMetrics(y: Int32Array, probabilities: Float64Array, classes: number, predicted = argmax(probabilities, classes)): ClassificationMetrics {
  const m = confusionMatrix(y, predicted, classes);
  let correct = 0;
  for (let c = 0; c < classes; c++) correct += m[c][c];
  const perClass = (c: number) => {
    let predictedC = 0, actualC = 0;
    for (let k = 0; k < classes; k++) {
      predictedC += m[k][c];
      actualC += m[c][k];
    }
    const precision = ratio(m[c][c], predictedC), recall = ratio(m[c][c], actualC);
    return { precision, recall, f1: ratio(2 * m[c][c], predictedC + actualC) };
  };
  const classesScored = classes === 2 ? [perClass(1)] : Array.from({ length: classes }, (_, c) => perClass(c));
  const mean = (key: 'precision' | 'recall' | 'f1') => classesScored.reduce((s, p) => s + p[key], 0) / classesScored.length;
  const out: ClassificationMetrics = { accuracy: correct / y.length, precision: mean('precision'), recall: mean('recall'), f1: mean('f1'), log_loss: logLoss(y, probabilities, classes) };
  if (classes === 2) out.roc_auc = rocAuc(y, Float64Array.from({ length: y.length }, (_, r) => probabilities[r * 2 + 1]));
  return out;
}

export function regressionMetrics(y: Float64Array, predicted: Float64Array): RegressionMetrics {
  let se = 0, ae = 0, mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= y.length;
  let ss = 0;
  for (let i = 0; i < y.length; i++) {
    const e = y[i] - predicted[i];
    se += e * e;
    ae += Math.abs(e);
    ss += (y[i] - mean) ** 2;
  }
  return { rmse: Math.sqrt(se / y.length), mae: ae / y.length, r2: ss === 0 ? (se === 0 ? 1 : 0) : 1 - se / ss };
}

/** Per-group rates behind the fairness gaps of a binary classifier (class 1 is the favourable outcome). */
export function groupRates(y: Int32Array, predicted: Int32Array): { selectionRate: number; truePositiveRate: number; falsePositiveRate: number } {
  let selected = 0, tp = 0, fp = 0, pos = 0;
  for (let i = 0; i < y.length; i++) {
    if (predicted[i] === 1) selected++;
    if (y[i] === 1) {
      pos++;
      if (predicted[i] === 1) tp++;
    } else if (predicted[i] === 1) fp++;
  }
  return { selectionRate: ratio(selected, y.length), truePositiveRate: ratio(tp, pos), falsePositiveRate: ratio(fp, y.length - pos) };
}
