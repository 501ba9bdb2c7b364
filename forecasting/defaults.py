"""Shenyang defaults: the bundled typical year and the default factory's rooftop array.

The typical year is ``data/CHN_Liaoning.Shenyang.543420_CSWD.epw`` (China
Standard Weather Data, see ``data/SOURCES.md``). Two quirks of this file are
corrected here, both found by comparing it with pvlib's clear sky
(``docs/forecasting.md``):

* its hourly GHI and DHI describe the hour *centred* on pvlib's label (the
  EPW convention would be the hour starting at it): on clear days the best
  fit is 30 min earlier, drifting with the equation of time by +-15 min, as if
  the source had been binned in solar time. The averages are moved 30 min
  earlier;
* its DNI was derived with the sun of the hour's *end*, so DNI x cos(zenith)
  does not close with GHI - DHI (the beam is ~10 % short for a horizontal
  array). DNI is dropped and re-derived from GHI and DHI on the horizon
  (``read_epw(..., drop_dni=True)``).

:func:`forecasting.weather.read_epw` applies both to every CSWD file (the
``LOCATION`` line says ``CSWD``), on the assumption that the whole collection was
converted the same way; pass ``irradiance_offset=pd.Timedelta(0),
drop_dni=False`` to read a file as it is.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

from forecasting.specs import FixedMount, PvArraySpec, PvSiteSpec
from forecasting.timeaxis import HorizonLike, horizon_index, index_step
from forecasting.weather import CSWD_IRRADIANCE_OFFSET, Weather, read_epw, typical_year_for

SHENYANG_EPW = "CHN_Liaoning.Shenyang.543420_CSWD.epw"


@cache
def shenyang_typical_year(corrected: bool = True) -> Weather:
    """The bundled Shenyang typical year, with the CSWD corrections (or as pvlib reads it)."""
    with resources.as_file(resources.files("forecasting.data").joinpath(SHENYANG_EPW)) as path:
        if not corrected:
            return read_epw(path, irradiance_offset=pd.Timedelta(0), drop_dni=False)
        return read_epw(path, irradiance_offset=CSWD_IRRADIANCE_OFFSET, drop_dni=True)


def shenyang_typical_weather(horizon: HorizonLike) -> Weather:
    """Typical-year weather of Shenyang re-dated to cover ``horizon``, with the CSWD corrections applied.

    Parameters
    ----------
    horizon : DatetimeIndex or object with ``.index``
        Interval starts, any year.

    Returns
    -------
    Weather
        GHI and DHI (30-min averages), temperature, wind and pressure.
    """
    index = horizon_index(horizon)
    return typical_year_for(shenyang_typical_year(), index[0], index[-1] + index_step(index))


def shenyang_default_site() -> PvSiteSpec:
    """The default scenario's PV: 1,500 kWp fixed at 30 deg facing south on a Shenyang roof, 1,300 kW inverters.

    Matches ``scenarios/data/make_default_day.py``: -0.30 %/C (TOPCon), SAPM
    open-rack glass/polymer temperature model, 14 % DC losses.
    """
    return PvSiteSpec(
        name="shenyang-factory",
        latitude_deg=41.73,
        longitude_deg=123.45,
        altitude_m=44.7,
        tz="Asia/Shanghai",
        arrays=[
            PvArraySpec(
                name="pv_roof",
                dc_kwp=1500.0,
                mount=FixedMount(tilt_deg=30.0, azimuth_deg=180.0),
                temp_coeff_pct_per_c=-0.30,
                temperature_model="open_rack_glass_polymer",
                system_losses_frac=0.14,
                inverter_ac_kw=1300.0,
            )
        ],
    )
