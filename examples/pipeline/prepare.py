"""Stage 1: drop rows with a missing reading."""
import csv
import os

os.makedirs("data", exist_ok=True)
with open("raw/sensors.csv", newline="") as f:
    rows = list(csv.DictReader(f))
kept = [r for r in rows if all(v.strip() for v in r.values())]
with open("data/prepared.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(kept)
print(f"prepare: kept {len(kept)} of {len(rows)} rows")
