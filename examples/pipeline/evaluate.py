"""Stage 4: accuracy of the model on the features, written to metrics/eval.json."""
import csv
import json
import os

try:
    import mlops_workbench as mlops
except ImportError:
    mlops = None

model = json.load(open("models/model.json"))
with open("data/features.csv", newline="") as f:
    rows = list(csv.reader(f))[1:]
right = 0
for r in rows:
    score = sum(a * float(c) for a, c in zip(model["weights"], r[:-1])) + model["bias"]
    right += (score > 0) == (r[-1] == "1")
accuracy = right / len(rows)
os.makedirs("metrics", exist_ok=True)
json.dump({"accuracy": accuracy}, open("metrics/eval.json", "w"))
if mlops:
    mlops.log_metric("accuracy", accuracy)
print(f"evaluate: accuracy {accuracy:.3f}")
