"""Makes the example's data from the breast-cancer set (../quickstart/data/breast_cancer.csv).

  python3 prepare.py            data/train.csv (300 rows) and holdout.csv (119 rows), as measured so far
  python3 prepare.py --arrive   new labelled cases from the new scanner: data/new.csv (150 rows) and a
                                holdout.csv of new-scanner cases (what the next model is judged on)

The "new scanner" is the injected shift: it reads every size feature (radius, perimeter, area)
40% larger. traffic.py sends requests from the same shifted world.
"""
import csv
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, '..', 'quickstart', 'data', 'breast_cancer.csv')
KINDS = ['radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness', 'concavity', 'concave_points', 'symmetry', 'fractal_dimension']
FEATURES = [f'{part}_{k}' for part in ('mean', 'se', 'worst') for k in KINDS]
SIZE = [i for i, f in enumerate(FEATURES) if f.split('_', 1)[1] in ('radius', 'perimeter', 'area')]
SCALE = 1.4


def rows():
    """The 569 cases, shuffled the same way every time: 30 features and the target (0 malignant, 1 benign)."""
    with open(SOURCE) as f:
        data = [[float(v) for v in r[:30]] + [int(r[30])] for r in list(csv.reader(f))[1:]]
    random.Random(7).shuffle(data)
    return data


def shifted(row):
    return [v * SCALE if i in SIZE else v for i, v in enumerate(row[:30])] + row[30:]


def write(path, data):
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(FEATURES + ['target'])
        w.writerows([[repr(v) for v in r[:30]] + [r[30]] for r in data])


if __name__ == '__main__':
    data = rows()
    if '--arrive' in sys.argv:
        write(os.path.join(HERE, 'data', 'new.csv'), [shifted(r) for r in data[300:450]])
        write(os.path.join(HERE, 'holdout.csv'), [shifted(r) for r in data[450:]])
        print('wrote data/new.csv (150 new-scanner cases) and holdout.csv (119 new-scanner cases)')
    else:
        write(os.path.join(HERE, 'data', 'train.csv'), data[:300])
        write(os.path.join(HERE, 'holdout.csv'), data[450:])
        print('wrote data/train.csv (300 cases) and holdout.csv (119 cases)')
