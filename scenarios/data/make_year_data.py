"""Regenerates the year-long inputs of the example scenarios from the real data in the repository.

``shenyang_tmy_hourly.csv`` (8,760 hourly rows of the Shenyang typical year, labelled by
interval start, local time, year 2018 given to every row):

- ``pv_fixed_kw_per_kwp``: AC output per kWp of a fixed array, 30 deg tilt, facing south;
- ``pv_tracker_bifacial_kw_per_kwp``: AC output per kWp (front nameplate) of bifacial modules
  (bifaciality 0.70) on horizontal north-south single-axis trackers (+-60 deg, backtracking,
  ground coverage ratio 0.35);

  both from the product's own PV model, ``forecasting.forecast_pv`` (pvlib), driven by the
  bundled Shenyang typical year with its CSWD corrections (``forecasting.shenyang_typical_weather``),
  computed on 15-minute steps and averaged to hours; DC/AC ratio 1.15, other settings the
  ``forecasting.PvArraySpec`` defaults (TOPCon -0.30 %/C, 14 % DC losses);
- ``temp_air_c``: air temperature [C] at the middle of the hour (mean of the EPW's end-of-hour
  samples on either side);
- ``heating_frac``: space-heating demand as a fraction of the design load,
  ``clip((15 - T) / (15 - (-16.9)), 0, 1)`` with a 15 C balance point and Shenyang's
  heating design temperature -16.9 C (GB 50736) [est];
- ``cooling_frac``: comfort/process cooling as a fraction of the design load,
  ``clip((T - 22) / (31.5 - 22), 0, 1)`` with Shenyang's cooling design dry bulb 31.5 C [est].

Source: ``CHN_Liaoning.Shenyang.543420_CSWD.epw`` (China Standard Weather Data, CMA and
Tsinghua University), as bundled in ``forecasting/data``.

``steel_load_2018_15min.csv`` (35,040 rows): the measured 15-minute load of a steel
plant in 2018 (UCI dataset 851, CC BY 4.0, in ../shared/data/load), ``load_kw = Usage_kWh x 4``,
labelled by interval start (the source labels interval ends and gives each 00:00 row the date
of the day it closes, so one day is added to 00:00 stamps and 15 minutes subtracted from all).

Run from the repository root: ``python scenarios/data/make_year_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
SHARED_EPW = ROOT / "forecasting" / "data" / "CHN_Liaoning.Shenyang.543420_CSWD.epw"
HERE = Path(__file__).parent
TZ = "Asia/Shanghai"
YEAR = 2018
LATITUDE, LONGITUDE, ALTITUDE_M = 41.73, 123.45, 44.7  # the EPW's station
DC_AC_RATIO = 1.15
GCR, BIFACIALITY, MAX_ANGLE = 0.35, 0.70, 60.0
HEATING_BALANCE_C, HEATING_DESIGN_C = 15.0, -16.9
COOLING_START_C, COOLING_DESIGN_C = 22.0, 31.5


def pv_year_per_kwp() -> pd.DataFrame:
    """Hourly AC power per kWp of the two example array types over the typical year [kW/kWp]."""
    from forecasting import (
        BifacialSpec,
        FixedMount,
        PvArraySpec,
        PvSiteSpec,
        SingleAxisTrackerMount,
        forecast_pv,
        shenyang_typical_weather,
    )

    index = pd.date_range(f"{YEAR}-01-01", f"{YEAR}-12-31 23:45", freq="15min", tz=TZ)
    ac_kw = 1.0 / DC_AC_RATIO
    site = PvSiteSpec(
        name="per kWp",
        latitude_deg=LATITUDE,
        longitude_deg=LONGITUDE,
        altitude_m=ALTITUDE_M,
        tz=TZ,
        arrays=[
            PvArraySpec(
                name="fixed", dc_kwp=1.0, mount=FixedMount(tilt_deg=30.0, azimuth_deg=180.0), inverter_ac_kw=ac_kw
            ),
            PvArraySpec(
                name="tracker",
                dc_kwp=1.0,
                mount=SingleAxisTrackerMount(gcr=GCR, max_angle_deg=MAX_ANGLE),
                bifacial=BifacialSpec(bifaciality_frac=BIFACIALITY),
                inverter_ac_kw=ac_kw,
            ),
        ],
    )
    forecast = forecast_pv(site, shenyang_typical_weather(index), index)
    hourly = forecast.resample("1h").mean()
    return pd.DataFrame(
        {
            "pv_fixed_kw_per_kwp": hourly["fixed_kw"].to_numpy(),
            "pv_tracker_bifacial_kw_per_kwp": hourly["tracker_kw"].to_numpy(),
        },
        index=hourly.index.tz_localize(None),
    )


def temperature_year() -> pd.DataFrame:
    """Hourly air temperature at mid-hour and the heating/cooling demand fractions derived from it."""
    raw, _ = pvlib.iotools.read_epw(SHARED_EPW, coerce_year=YEAR)
    raw = raw.sort_index()  # pvlib labels EPW hour h (covering [h-1, h)) by its start
    temp = raw["temp_air"].to_numpy(float)  # samples at the end of each hour
    temp_mid = (temp + np.roll(temp, 1)) / 2
    return pd.DataFrame(
        {
            "temp_air_c": temp_mid,
            "heating_frac": np.clip((HEATING_BALANCE_C - temp_mid) / (HEATING_BALANCE_C - HEATING_DESIGN_C), 0, 1),
            "cooling_frac": np.clip((temp_mid - COOLING_START_C) / (COOLING_DESIGN_C - COOLING_START_C), 0, 1),
        },
        index=raw.index.tz_localize(None),
    )


def weather_year() -> pd.DataFrame:
    return pv_year_per_kwp().join(temperature_year(), how="inner")


def steel_load_year() -> pd.Series:
    raw = pd.read_csv(SHARED / "load" / "Steel_industry_data.csv", encoding="utf-8-sig")
    stamps = pd.to_datetime(raw["date"], format="%d/%m/%Y %H:%M")
    stamps = stamps.where(stamps.dt.strftime("%H:%M") != "00:00", stamps + pd.Timedelta(days=1))
    load = pd.Series(raw["Usage_kWh"].to_numpy() * 4.0, index=stamps - pd.Timedelta(minutes=15), name="load_kw")
    return load.sort_index()


def main() -> None:
    weather = weather_year().round(4)
    weather.to_csv(HERE / "shenyang_tmy_hourly.csv", index_label="interval_start", date_format="%Y-%m-%d %H:%M")
    load = steel_load_year().round(2)
    load.to_csv(HERE / "steel_load_2018_15min.csv", index_label="interval_start", date_format="%Y-%m-%d %H:%M")
    print(
        f"PV yield fixed {weather.pv_fixed_kw_per_kwp.sum():.0f} kWh/kWp, "
        f"bifacial tracker {weather.pv_tracker_bifacial_kw_per_kwp.sum():.0f} kWh/kWp; "
        f"heating full-load hours {weather.heating_frac.sum():.0f} h, cooling {weather.cooling_frac.sum():.0f} h; "
        f"load {load.sum() / 4 / 1000:.0f} MWh/yr, peak {load.max():.0f} kW, {len(load)} steps"
    )


if __name__ == "__main__":
    main()
