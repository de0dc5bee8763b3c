"""Train a logistic regression that tells malignant from benign tumours.

Pure Python (no numpy): runs on any python3 in about a second. The data is the
Wisconsin diagnostic breast-cancer data set in data/breast_cancer.csv: a first
line "569,30,malignant,benign" (rows, features, class names), then one row per
sample with 30 numeric features and a 0/1 target (0 = malignant, 1 = benign).

    python3 train.py --lr 0.1 --epochs 30 --seed 0

Tracked with MLOps Workbench: params, per-epoch loss / accuracy curves, and
the trained model (model.json) as an artifact.
"""

import argparse
import csv
import json
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import mlops_workbench as mlops
except ImportError:
    _client = os.path.normpath(os.path.join(HERE, "..", "..", "python"))
    if not os.path.isdir(os.path.join(_client, "mlops_workbench")):
        _client = "<MLOps Workbench repo>/python"
    sys.exit(
        "train.py: cannot import mlops_workbench (the MLOps Workbench tracking client).\n"
        "Run it with tracking: the 'Run Python File with Tracking' button in VS Code, or\n"
        "    mlops run -- python3 train.py\n"
        "or put the client on the path yourself:\n"
        "    PYTHONPATH=%s python3 train.py" % _client
    )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--epochs", type=int, default=30, help="passes over the training set (default 30)")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the shuffling (default 0)")
    parser.add_argument("--val-fraction", type=float, default=0.25, help="share held out for validation (default 0.25)")
    parser.add_argument("--data", default=os.path.join(HERE, "data", "breast_cancer.csv"), help="the CSV file")
    parser.add_argument("--out", default="model.json", help="where to save the model (default model.json)")
    return parser.parse_args()


def load_dataset(path):
    """(features, targets, class_names) from the scikit-learn style CSV."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        n_rows, n_features = int(header[0]), int(header[1])
        class_names = header[2:]
        features, targets = [], []
        for row in reader:
            if not row:
                continue
            features.append([float(value) for value in row[:n_features]])
            targets.append(int(float(row[n_features])))
    if len(features) != n_rows:
        raise ValueError("%s: header says %d rows, found %d" % (path, n_rows, len(features)))
    return features, targets, class_names


def split(n, val_fraction, seed):
    """Shuffled (train, val) index lists; the same seed gives the same split."""
    indices = list(range(n))
    random.Random(seed).shuffle(indices)
    n_val = int(math.ceil(n * val_fraction))
    return indices[n_val:], indices[:n_val]


def standardiser(rows):
    """Per-feature mean and standard deviation of the training rows."""
    n = float(len(rows))
    means = [sum(column) / n for column in zip(*rows)]
    stds = []
    for j, column in enumerate(zip(*rows)):
        variance = sum((x - means[j]) ** 2 for x in column) / n
        stds.append(math.sqrt(variance) or 1.0)
    return means, stds


def standardise(rows, means, stds):
    return [[(x - m) / s for x, m, s in zip(row, means, stds)] for row in rows]


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def predict(weights, bias, row):
    """Probability of class 1 (benign)."""
    return sigmoid(bias + sum(w * x for w, x in zip(weights, row)))


def evaluate(weights, bias, rows, targets):
    """(mean log loss, accuracy) of the model on rows."""
    loss, correct = 0.0, 0
    for row, y in zip(rows, targets):
        p = min(max(predict(weights, bias, row), 1e-12), 1.0 - 1e-12)
        loss -= y * math.log(p) + (1 - y) * math.log(1.0 - p)
        correct += (p >= 0.5) == (y == 1)
    return loss / len(rows), correct / float(len(rows))


def train_epoch(weights, bias, rows, targets, lr, batch_size, rng):
    """One pass of mini-batch gradient descent on the log loss; returns the new bias."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        grad_w = [0.0] * len(weights)
        grad_b = 0.0
        for i in batch:
            row = rows[i]
            error = predict(weights, bias, row) - targets[i]
            grad_b += error
            for j, x in enumerate(row):
                grad_w[j] += error * x
        scale = lr / len(batch)
        for j in range(len(weights)):
            weights[j] -= scale * grad_w[j]
        bias -= scale * grad_b
    return bias


def main():
    args = parse_args()
    features, targets, class_names = load_dataset(args.data)
    train_idx, val_idx = split(len(features), args.val_fraction, args.seed)
    means, stds = standardiser([features[i] for i in train_idx])
    x_train = standardise([features[i] for i in train_idx], means, stds)
    x_val = standardise([features[i] for i in val_idx], means, stds)
    y_train = [targets[i] for i in train_idx]
    y_val = [targets[i] for i in val_idx]

    mlops.log_params({
        "lr": args.lr,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "val_fraction": args.val_fraction,
        "model": "logistic_regression",
        "train_rows": len(x_train),
        "val_rows": len(x_val),
    })
    print("training on %d rows, validating on %d (%d features)" % (len(x_train), len(x_val), len(means)), flush=True)

    rng = random.Random(args.seed)
    weights, bias = [0.0] * len(means), 0.0
    val_accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        bias = train_epoch(weights, bias, x_train, y_train, args.lr, args.batch_size, rng)
        loss, train_accuracy = evaluate(weights, bias, x_train, y_train)
        val_loss, val_accuracy = evaluate(weights, bias, x_val, y_val)
        mlops.log_metrics(
            {"loss": loss, "val_loss": val_loss, "train_accuracy": train_accuracy, "val_accuracy": val_accuracy},
            step=epoch,
        )
        print("epoch %3d/%d  loss %.4f  train_accuracy %.4f  val_accuracy %.4f"
              % (epoch, args.epochs, loss, train_accuracy, val_accuracy), flush=True)

    model = {
        "model": "logistic_regression",
        "classes": class_names,
        "positive_class": class_names[1] if len(class_names) > 1 else 1,
        "weights": weights,
        "bias": bias,
        "feature_mean": means,
        "feature_std": stds,
        "val_accuracy": val_accuracy,
    }
    with open(args.out, "w") as f:
        json.dump(model, f, indent=1)
    mlops.log_artifact(args.out)
    print("saved %s (val_accuracy %.4f)" % (args.out, val_accuracy), flush=True)


if __name__ == "__main__":
    main()
