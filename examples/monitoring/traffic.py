"""Sends the deployment a steady, bounded stream of cases, as a clinic's software would.

  python3 traffic.py http://127.0.0.1:<port> [--new-scanner] [--seconds 60] [--rate 40] [--json]

--new-scanner sends the cases as the new scanner measures them (sizes 40% larger: the shift
prepare.py injects). Every 5 seconds it prints what it sent, how many failed, and which
model versions answered; --json prints one JSON summary at the end instead. A request that
does not get a 200 counts as failed. Ctrl-C (or SIGTERM) ends it early, with the summary.
Exit code 1 when any failed.
"""
import json
import signal
import sys
import threading
import time
import urllib.request

from prepare import rows, shifted

args = sys.argv[1:]
url = args[0].rstrip('/') + '/v2/models/cancer/infer'
seconds = float(args[args.index('--seconds') + 1]) if '--seconds' in args else 60.0
rate = float(args[args.index('--rate') + 1]) if '--rate' in args else 40.0
cases = [shifted(r) if '--new-scanner' in args else r for r in rows()]
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
    i = k
    while time.time() < end:
        body = json.dumps({'inputs': [{'name': 'input', 'shape': [1, 30], 'datatype': 'FP32', 'data': cases[i % len(cases)][:30]}]}).encode()
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
