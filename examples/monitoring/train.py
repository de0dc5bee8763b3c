"""Trains a linear classifier on every CSV in a folder (numpy only) and exports it to ONNX.

  python3 train.py                        data/*.csv → model.onnx (the cancer model)
  python3 train.py weather weather.onnx   weather/*.csv → weather.onnx (the weather model)

The last column is the label, the others the features. Writes input "input" float32
[batch, features] (raw features) and output "probabilities" [batch, classes], the classes
in the order of their sorted labels; the standardisation is inside the graph. Logs the
training accuracy when tracked (the stages of mlops.yaml: mlops pipeline run). The gates
judge the cancer model on holdout.csv.
"""
import csv
import glob
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from onnx_writer import linear_classifier  # noqa: E402

try:  # the MLOps Workbench client, when run with tracking
    sys.path.insert(0, os.path.join(HERE, '..', '..', 'python'))
    import mlops_workbench as mlops
except ImportError:  # pragma: no cover - plain python3 without the client
    mlops = None


def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) for v in r[:-1]] for r in rows]), [r[-1] for r in rows]


folder = sys.argv[1] if len(sys.argv) > 1 else 'data'
output = sys.argv[2] if len(sys.argv) > 2 else 'model.onnx'
parts = [read(p) for p in sorted(glob.glob(os.path.join(HERE, folder, '*.csv')))]
if not parts:
    sys.exit(f'no CSV file in {folder}/ to train on')
x = np.vstack([p[0] for p in parts])
labels = [v for p in parts for v in p[1]]
classes = sorted(set(labels))
target = np.array([classes.index(v) for v in labels])
y = np.eye(len(classes))[target][:, 1:]
mean, std = x.mean(0), x.std(0) + 1e-9
xs = (x - mean) / std
epochs, lr, l2 = int(os.environ.get('EPOCHS', '400')), 0.5, 1e-3
# Multinomial logistic regression: the first class scores 0, each other class a learnt linear
# score (with two classes, plain logistic regression: the second class's logit).
w, b = np.zeros((x.shape[1], len(classes) - 1)), np.zeros(len(classes) - 1)


def scores():
    return np.hstack([np.zeros((len(xs), 1)), xs @ w + b])


for _ in range(epochs):
    s = scores()
    p = np.exp(s - s.max(1, keepdims=True))
    p = (p / p.sum(1, keepdims=True))[:, 1:]
    w -= lr * (xs.T @ (p - y) / len(y) + l2 * w)
    b -= lr * np.mean(p - y, axis=0)

accuracy = float(np.mean(scores().argmax(1) == target))
print(f'trained on {len(y)} rows, {len(classes)} classes ({", ".join(classes)}); training accuracy {accuracy:.3f}')
if mlops:
    mlops.log_params({'epochs': epochs, 'rows': len(y), 'files': len(parts), 'classes': len(classes)})
    mlops.log_metric('train_accuracy', accuracy)

linear_classifier(os.path.join(HERE, output), mean.tolist(), std.tolist(), [[0.0] + row.tolist() for row in w], [0.0] + b.tolist())
print(f'wrote {output}')
