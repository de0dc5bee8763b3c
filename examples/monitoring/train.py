"""Trains a logistic-regression classifier on every CSV in data/ (numpy only) and exports it to ONNX.

Writes model.onnx: input "input" float32 [batch, 30] (raw features), output "probabilities"
[batch, 2]; the standardisation is inside the graph. Logs the training accuracy when tracked
(the train stage of mlops.yaml: mlops pipeline run). The gates judge it on holdout.csv.
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
        data = np.array([[float(v) for v in r] for r in list(csv.reader(f))[1:]])
    return data[:, :30], data[:, 30]


parts = [read(p) for p in sorted(glob.glob(os.path.join(HERE, 'data', '*.csv')))]
x = np.vstack([p[0] for p in parts])
y = np.concatenate([p[1] for p in parts])
mean, std = x.mean(0), x.std(0) + 1e-9
xs = (x - mean) / std
epochs, lr, l2 = int(os.environ.get('EPOCHS', '400')), 0.5, 1e-3
w, b = np.zeros(30), 0.0
for _ in range(epochs):
    p = 1 / (1 + np.exp(-(xs @ w + b)))
    w -= lr * (xs.T @ (p - y) / len(y) + l2 * w)
    b -= lr * float(np.mean(p - y))

accuracy = float(np.mean(((xs @ w + b) > 0) == y))
print(f'trained on {len(y)} rows; training accuracy {accuracy:.3f}')
if mlops:
    mlops.log_params({'epochs': epochs, 'rows': len(y), 'files': len(parts)})
    mlops.log_metric('train_accuracy', accuracy)

# Two-class softmax: class 0 scores 0, class 1 scores the logistic regression's logit.
linear_classifier(os.path.join(HERE, 'model.onnx'), mean.tolist(), std.tolist(), [[0.0, float(v)] for v in w], [0.0, b])
print('wrote model.onnx')
