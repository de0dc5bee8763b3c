"""Trains a small MLP on the breast-cancer data with PyTorch (CPU), exports it to ONNX.

Writes model.onnx (input "input" float32 [batch, 30], output "probabilities" [batch, 2])
and norm.csv (the training mean and std of the 30 features, for the server to standardise
raw requests). Run with Debian's python3-torch: /usr/bin/python3 train.py, or tracked:
mlops run -- /usr/bin/python3 train.py
"""
import csv
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'quickstart', 'data', 'breast_cancer.csv')

try:  # the MLOps Workbench client, when run with tracking
    sys.path.insert(0, os.path.join(HERE, '..', '..', 'python'))
    import mlops_workbench as mlops
except ImportError:  # pragma: no cover - plain python3 without the client
    mlops = None

torch.manual_seed(0)
with open(DATA) as f:
    rows = list(csv.reader(f))[1:]
x = torch.tensor([[float(v) for v in r[:30]] for r in rows])
y = torch.tensor([int(r[30]) for r in rows])
perm = torch.randperm(len(x))
train, test = perm[: int(0.75 * len(x))], perm[int(0.75 * len(x)):]
mean, std = x[train].mean(0), x[train].std(0)
xs = (x - mean) / std

model = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
epochs = int(os.environ.get('EPOCHS', '60'))
if mlops:
    mlops.log_param('epochs', epochs)
    mlops.log_param('hidden', 16)
for epoch in range(epochs):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(xs[train]), y[train])
    loss.backward()
    opt.step()
    with torch.no_grad():
        acc = (model(xs[test]).argmax(1) == y[test]).float().mean().item()
    if mlops:
        mlops.log_metric('loss', loss.item(), step=epoch)
        mlops.log_metric('val_accuracy', acc, step=epoch)
print(f'test accuracy {acc:.3f}')

# Softmax inside the graph: the server then returns probabilities.
exported = torch.nn.Sequential(model, torch.nn.Softmax(dim=1)).eval()
torch.onnx.export(exported, torch.zeros(1, 30), os.path.join(HERE, 'model.onnx'), input_names=['input'],
                  output_names=['probabilities'], dynamic_axes={'input': {0: 'batch'}, 'probabilities': {0: 'batch'}}, opset_version=13)
with open(os.path.join(HERE, 'norm.csv'), 'w') as f:
    f.write(','.join(repr(v) for v in mean.tolist()) + '\n' + ','.join(repr(v) for v in std.tolist()) + '\n')
print('wrote model.onnx and norm.csv')
