"""Scores a few raw rows of the data set on a running deployment, both wire formats.

Usage: python3 query.py http://127.0.0.1:<port>   (the URL mlops serve printed)
"""
import csv
import json
import os
import sys
import urllib.request

url = sys.argv[1].rstrip('/')
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, '..', 'quickstart', 'data', 'breast_cancer.csv')) as f:
    rows = [[float(v) for v in r[:30]] for r in list(csv.reader(f))[1:4]]


def post(path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode(), {'Content-Type': 'application/json'})
    with urllib.request.urlopen(req) as res:
        return json.load(res)


oip = post('/v2/models/cancer/infer', {'inputs': [{'name': 'input', 'shape': [len(rows), 30], 'datatype': 'FP32', 'data': rows}]})
print('Open Inference Protocol:', oip['model_version'], oip['outputs'][0]['data'])
print('MLflow /invocations:   ', post('/invocations', {'dataframe_split': {'data': rows}})['predictions'])
