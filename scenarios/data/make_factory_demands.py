"""Regenerates ``factory_demands_15min.csv``: the full factory's thermal and air demands over a reference year.

The embedded full-factory default (``scenarios/factory.py``, ``factory_problem``) builds
three demand profiles from shift times and the season; this script writes the same rules
out as a year of quarter-hours, so the scenario file ``scenarios/examples/shenyang_factory.yaml``
reads them with ``repeat: yearly`` (matched by month, day and clock time, whatever the run's year).
All levels are typical values [est], not one factory's measurements:

- ``cooling_kw`` (process cooling [kW_th]): 200 outside the shifts; on shift
  (07:30-22:00) 600 in the warm months (May-September), 300 in the rest;
- ``heat_kw`` (workshop heat [kW_th]): warm months 150 outside, 250 on shift
  (06:00-22:00); other months 450 around the clock;
- ``air_m3_per_min`` (compressed air [m3/min of free air]): 40 outside the shifts,
  75 on shift (07:30-22:00), all year.

Intervals are labelled by their start in local time (UTC+8, no DST); a shift covers the
quarter-hours starting at or after its start and before its end. The season is taken per
day here; ``factory_problem`` takes it from the first day of its horizon for the whole
horizon, which is the same for any horizon within one season. Every row is given the year
2026 (not a leap year; 29 February takes 28 February's values).

Run from the repository root: ``python scenarios/data/make_factory_demands.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("factory_demands_15min.csv")
YEAR = 2026
WARM_MONTHS = (5, 6, 7, 8, 9)
SHIFT_H = (7.5, 22.0)  # cooling and compressed air on shift [h, local]
HEAT_SHIFT_H = (6.0, 22.0)  # workshop heat on shift [h, local]
# (outside the shift, on shift) per season: warm months, other months
COOLING_KW = {True: (200.0, 600.0), False: (200.0, 300.0)}
HEAT_KW = {True: (150.0, 250.0), False: (450.0, 450.0)}
AIR_M3_PER_MIN = {True: (40.0, 75.0), False: (40.0, 75.0)}


def _shift(
    hours: np.ndarray, warm: np.ndarray, levels: dict[bool, tuple[float, float]], shift_h: tuple[float, float]
) -> np.ndarray:
    """The on-shift level during ``shift_h`` [start, end), the off-shift level otherwise, by season."""
    on = (hours >= shift_h[0]) & (hours < shift_h[1])
    off_level = np.where(warm, levels[True][0], levels[False][0])
    on_level = np.where(warm, levels[True][1], levels[False][1])
    return np.where(on, on_level, off_level)


def demands_year() -> pd.DataFrame:
    """The three demand columns on every quarter-hour of the reference year (naive local time)."""
    index = pd.date_range(f"{YEAR}-01-01", f"{YEAR}-12-31 23:45", freq="15min")
    hours = np.asarray(index.hour + index.minute / 60.0)
    warm = np.isin(index.month, WARM_MONTHS)
    return pd.DataFrame(
        {
            "cooling_kw": _shift(hours, warm, COOLING_KW, SHIFT_H),
            "heat_kw": _shift(hours, warm, HEAT_KW, HEAT_SHIFT_H),
            "air_m3_per_min": _shift(hours, warm, AIR_M3_PER_MIN, SHIFT_H),
        },
        index=index,
    )


def main() -> None:
    frame = demands_year()
    # every level is a whole number: written as integers to keep the file small
    frame.astype(int).to_csv(OUT, index_label="interval_start", date_format="%Y-%m-%d %H:%M")
    print(
        f"{len(frame)} rows; a year: cooling {frame.cooling_kw.sum() / 4 / 1000:,.0f} MWh_th, "
        f"heat {frame.heat_kw.sum() / 4 / 1000:,.0f} MWh_th, "
        f"compressed air {frame.air_m3_per_min.sum() * 15 / 1e6:,.1f} million m3"
    )


if __name__ == "__main__":
    main()
