"""Stage 2: standardise each reading (mean 0, standard deviation 1)."""
import csv
import statistics

with open("data/prepared.csv", newline="") as f:
    rows = list(csv.DictReader(f))
features = ["temperature", "vibration", "pressure"]
stats = {k: (statistics.mean(float(r[k]) for r in rows), statistics.pstdev(float(r[k]) for r in rows)) for k in features}
with open("data/features.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(features + ["failed"])
    for r in rows:
        w.writerow([f"{(float(r[k]) - stats[k][0]) / stats[k][1]:.6f}" for k in features] + [r["failed"]])
print(f"featurize: {len(rows)} rows, {len(features)} features")
