"""Regenerates ``default_day_shenyang.csv`` from the real data in ../shared/data.

PV: a 1,500 kWp fixed array (30 deg tilt, south) at Shenyang, from the CSWD
typical-year weather file, with pvlib (Perez transposition, SAPM cell
temperature, PVWatts DC with -0.30 %/C, 14 % system losses, 1,300 kW inverter).
EPW hourly values are averages over the hour *ending* at the label, so they are
relabelled to interval starts and each hour's average is held over its four
quarter-hours.

Load: the measured 15-minute load of a steel plant (UCI dataset 851, 2018),
scaled by 3 to the size of a mid-sized Shenyang factory. Stamps are interval
ends and every 00:00 row carries the date of the day it closes, so one day is
added to 00:00 stamps and 15 minutes subtracted from all to get interval starts.

Run from the repository root: ``python scenarios/data/make_default_day.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pvlib

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
OUT = Path(__file__).with_name("default_day_shenyang.csv")
TMY_DAY = "07-15"  # month-day taken from the typical year
LOAD_DAY = "2018-07-17"  # a Tuesday, a normal working day
LOAD_SCALE = 3.0
KWP, INVERTER_KW, TILT, AZIMUTH, LOSSES = 1500.0, 1300.0, 30.0, 180.0, 0.14
TEMP_COEFF_PER_C = -0.0030


def pv_day_kw() -> pd.Series:
    weather, meta = pvlib.iotools.read_epw(SHARED / "weather" / "CHN_Liaoning.Shenyang.543420_CSWD.epw")
    weather.index = weather.index - pd.Timedelta(hours=1)  # label = interval start
    day = weather[weather.index.strftime("%m-%d") == TMY_DAY]
    location = pvlib.location.Location(meta["latitude"], meta["longitude"], tz="Asia/Shanghai")
    mid = day.index + pd.Timedelta(minutes=30)
    solar = location.get_solarposition(mid)
    poa = pvlib.irradiance.get_total_irradiance(
        TILT,
        AZIMUTH,
        solar["apparent_zenith"].to_numpy(),
        solar["azimuth"].to_numpy(),
        day["dni"].to_numpy(),
        day["ghi"].to_numpy(),
        day["dhi"].to_numpy(),
        dni_extra=pvlib.irradiance.get_extra_radiation(mid).to_numpy(),
        airmass=location.get_airmass(mid)["airmass_relative"].to_numpy(),
        model="perez",
    )
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
    cell = pvlib.temperature.sapm_cell(
        poa["poa_global"], day["temp_air"].to_numpy(), day["wind_speed"].to_numpy(), **params
    )
    dc = pvlib.pvsystem.pvwatts_dc(poa["poa_global"], cell, KWP, TEMP_COEFF_PER_C)
    ac = (pd.Series(dc, index=day.index).fillna(0.0) * (1 - LOSSES)).clip(0.0, INVERTER_KW)
    return ac


def load_day_kw() -> pd.Series:
    raw = pd.read_csv(SHARED / "load" / "Steel_industry_data.csv", encoding="utf-8-sig")
    stamps = pd.to_datetime(raw["date"], format="%d/%m/%Y %H:%M")
    stamps = stamps.where(stamps.dt.strftime("%H:%M") != "00:00", stamps + pd.Timedelta(days=1))
    load = pd.Series(raw["Usage_kWh"].to_numpy() * 4.0, index=stamps - pd.Timedelta(minutes=15))
    return load.sort_index().loc[LOAD_DAY] * LOAD_SCALE


def main() -> None:
    load = load_day_kw()
    pv_hourly = pv_day_kw()
    pv = pv_hourly.reindex(pd.date_range(pv_hourly.index[0], periods=96, freq="15min"), method="ffill")
    frame = pd.DataFrame(
        {
            "time_of_day": load.index.strftime("%H:%M"),
            "pv_available_kw": pv.to_numpy().round(2),
            "load_kw": load.to_numpy().round(2),
        }
    )
    frame.to_csv(OUT, index=False)
    print(f"wrote {OUT}: PV {frame.pv_available_kw.sum() / 4:.0f} kWh, load {frame.load_kw.sum() / 4:.0f} kWh")


if __name__ == "__main__":
    main()
