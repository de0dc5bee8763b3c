"""Sends a deployment a steady, bounded stream of cases, as a clinic's (or a weather app's) software would.

  python3 traffic.py http://127.0.0.1:<port> [--new-scanner] [--seconds 60] [--rate 40] [--requests N] [--json]
  python3 traffic.py http://127.0.0.1:<port> --weather PERIOD [...]

To the cancer deployment by default; --new-scanner sends the cases as the new scanner
measures them (sizes 40% larger: the shift prepare.py injects). --weather PERIOD sends the
weather deployment the days of a year or season (2014, 2015-summer: weather.py). It stops
after --seconds, or after --requests in all (the same requests every time). Every 5 seconds
it prints what it sent, how many failed, and which model versions answered; --json prints
one JSON summary at the end instead. A request that does not get a 200 counts as failed.
Ctrl-C (or SIGTERM) ends it early, with the summary. Exit code 1 when any failed.
"""
import json
import signal
import sys
import threading
import time
import urllib.request

args = sys.argv[1:]
if not args or args[0].startswith('--'):
    sys.exit('usage: python3 traffic.py http://127.0.0.1:<port> [--new-scanner | --weather PERIOD] [--seconds 60] [--rate 40] [--requests N] [--json]')


def option(name, default):
    return args[args.index(name) + 1] if name in args else default


seconds = float(option('--seconds', 60))
rate = float(option('--rate', 40))
requests = int(option('--requests', 0)) or float('inf')
if '--weather' in args:
    from weather import days
    model, cases = 'weather', [d[:4] for d in days(option('--weather', ''))]
else:
    from prepare import rows, shifted
    model, cases = 'cancer', [(shifted(r) if '--new-scanner' in args else r)[:30] for r in rows()]
url = args[0].rstrip('/') + f'/v2/models/{model}/infer'
stats = {'sent': 0, 'failed': 0, 'versions': {}}
lock = threading.Lock()
end = time.time() + seconds
CLIENTS = 4


def stop(*_):
    global end
    end = 0


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)


def client(k):
    i = k  # client k sends requests k, k + CLIENTS, …: with --requests, the same set every time
    while time.time() < end and i < requests:
        case = cases[i % len(cases)]
        body = json.dumps({'inputs': [{'name': 'input', 'shape': [1, len(case)], 'datatype': 'FP32', 'data': case}]}).encode()
        version = None
        try:
            req = urllib.request.Request(url, body, {'Content-Type': 'application/json'})
            with urllib.request.urlopen(req, timeout=10) as res:
                version = json.load(res)['model_version']
        except Exception:  # any error, refused connection or non-200 answer is a failed request
            pass
        with lock:
            stats['sent'] += 1
            if version is None:
                stats['failed'] += 1
            else:
                stats['versions'][version] = stats['versions'].get(version, 0) + 1
        i += CLIENTS
        time.sleep(CLIENTS / rate)


threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
for t in threads:
    t.start()
while any(t.is_alive() for t in threads):
    time.sleep(5 if '--json' not in args else 0.2)
    if '--json' not in args:
        with lock:
            print(f"sent {stats['sent']}, failed {stats['failed']}, answered by version(s) {stats['versions']}", flush=True)
if '--json' in args:
    print(json.dumps(stats))
sys.exit(1 if stats['failed'] else 0)
