"""Real drift: Seattle's daily weather 2012-2015 (seattle-weather.csv of the npm package vega-datasets).

  python3 weather.py 2012      weather/train.csv: the 366 days of 2012 (what the weather model learns from)

A period is a year (2014) or a season of it (2015-summer; winter is its January, February
and December). traffic.py --weather PERIOD sends the days of a period. The features are
precipitation (mm), temp_max and temp_min (°C) and wind (m/s); the label is the weather
(drizzle, fog, rain, snow, sun).

The file is found in the project's node_modules (npm install in the repository: vega-datasets
is a dev dependency), or wherever SEATTLE_WEATHER_CSV points.
"""
import csv
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind']
SEASONS = {'winter': (1, 2, 12), 'spring': (3, 4, 5), 'summer': (6, 7, 8), 'autumn': (9, 10, 11)}


def source():
    """seattle-weather.csv: SEATTLE_WEATHER_CSV, else node_modules/vega-datasets in a folder above this one."""
    given = os.environ.get('SEATTLE_WEATHER_CSV')
    if given:
        return given
    d = HERE
    while True:
        f = os.path.join(d, 'node_modules', 'vega-datasets', 'data', 'seattle-weather.csv')
        if os.path.exists(f):
            return f
        if os.path.dirname(d) == d:
            sys.exit('seattle-weather.csv not found: run "npm install" in the repository (vega-datasets is a dev '
                     'dependency) or set SEATTLE_WEATHER_CSV=/path/to/seattle-weather.csv')
        d = os.path.dirname(d)


def days(period):
    """The days of a period (a year, or YEAR-SEASON) as [precipitation, temp_max, temp_min, wind, weather], shuffled the same way every time."""
    year, _, season = period.partition('-')
    if not year.isdigit() or (season and season not in SEASONS):
        sys.exit(f'"{period}" is not a period: give a year (2014) or a season of one ({", ".join("2015-" + s for s in SEASONS)})')
    with open(source()) as f:
        rows = [r for r in csv.DictReader(f) if r['date'][:4] == year and (not season or int(r['date'][5:7]) in SEASONS[season])]
    if not rows:
        sys.exit(f'no days of {period} in seattle-weather.csv (it holds 2012 to 2015)')
    random.Random(7).shuffle(rows)
    return [[float(r[k]) for k in FEATURES] + [r['weather']] for r in rows]


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: python3 weather.py PERIOD   (writes weather/train.csv, e.g. python3 weather.py 2012)')
    data = days(sys.argv[1])
    os.makedirs(os.path.join(HERE, 'weather'), exist_ok=True)
    with open(os.path.join(HERE, 'weather', 'train.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(FEATURES + ['weather'])
        w.writerows(data)
    print(f'wrote weather/train.csv ({len(data)} days of {sys.argv[1]})')
