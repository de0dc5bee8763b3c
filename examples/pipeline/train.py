"""Stage 3: logistic regression by gradient descent; lr and epochs come from params.json."""
import csv
import json
import math
import os

try:
    import mlops_workbench as mlops  # present when run by MLOps Workbench
except ImportError:
    mlops = None

params = json.load(open("params.json"))["train"]
with open("data/features.csv", newline="") as f:
    rows = list(csv.reader(f))[1:]
x = [[float(v) for v in r[:-1]] for r in rows]
y = [float(r[-1]) for r in rows]
w = [0.0] * len(x[0])
b = 0.0
for epoch in range(params["epochs"]):
    gw, gb, loss = [0.0] * len(w), 0.0, 0.0
    for xi, yi in zip(x, y):
        p = 1 / (1 + math.exp(-(sum(a * c for a, c in zip(w, xi)) + b)))
        loss -= yi * math.log(max(p, 1e-12)) + (1 - yi) * math.log(max(1 - p, 1e-12))
        for j, v in enumerate(xi):
            gw[j] += (p - yi) * v
        gb += p - yi
    w = [a - params["lr"] * g / len(x) for a, g in zip(w, gw)]
    b -= params["lr"] * gb / len(x)
    if mlops and epoch % 20 == 0:
        mlops.log_metric("loss", loss / len(x), step=epoch)
if mlops:
    mlops.log_param("lr", params["lr"])
    mlops.log_param("epochs", params["epochs"])
os.makedirs("models", exist_ok=True)
json.dump({"weights": w, "bias": b}, open("models/model.json", "w"), indent=1)
print(f"train: final loss {loss / len(x):.4f}")
