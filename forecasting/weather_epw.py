"""Weather from EPW / TMY files (read by pvlib), with the corrections for China Standard Weather Data.

pvlib labels each EPW hour by its start, so irradiance is an hour average
labelled at the start; temperature, wind and pressure are instants at the end
of the hour and are moved onto their own time. CSWD files (``CSWD`` in the
LOCATION line) put each hour's irradiance 30 min late and carry a DNI that does
not close with GHI - DHI: by default the irradiance is shifted by
:data:`CSWD_IRRADIANCE_OFFSET` and the DNI dropped (re-derived on the horizon);
see ``docs/forecasting.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from forecasting.weather_frame import IRRADIANCE_COLUMNS, Sampling, Weather

#: China Standard Weather Data EPW files put each hour's irradiance 30 min late (docs/forecasting.md).
CSWD_IRRADIANCE_OFFSET = pd.Timedelta(minutes=-30)


def read_epw(
    path: str | Path,
    *,
    coerce_year: int | None = None,
    irradiance_offset: pd.Timedelta | None = None,
    drop_dni: bool | None = None,
) -> Weather:
    """Read an EPW (e.g. a typical meteorological year) with :func:`pvlib.iotools.read_epw`.

    pvlib labels each hour by its start (EPW hour ``h`` covers ``[h-1, h)`` and
    gets the label ``h-1``), so irradiance is an interval average labelled at
    the start. Temperature, wind and pressure are instants at the *end* of the
    hour: they are moved one hour forward onto their own time, cyclically (the
    value of 24:00 on 31 December becomes the 00:00 value of 1 January, which
    suits a typical year).

    Parameters
    ----------
    path : path
        The ``.epw`` file.
    coerce_year : int, optional
        Give every row this year. TMY months come from different years; when
        the rows are out of order they get the first row's year.
    irradiance_offset : Timedelta, optional
        For files whose hours are not where the EPW convention puts them:
        the averages describe ``[label + offset, label + offset + 1 h)``
        (cyclic shift, see :func:`forecasting.resample.shift_averages`).
        Default: :data:`CSWD_IRRADIANCE_OFFSET` (-30 min) for China Standard
        Weather Data files (``CSWD`` in the LOCATION line), else none.
    drop_dni : bool, optional
        Drop the file's DNI so that it is re-derived from GHI and DHI on the
        horizon (for files whose DNI does not close with GHI - DHI).
        Default: True for CSWD files, else False.

    Returns
    -------
    Weather
        ``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2`` (averages), ``temp_air_c``,
        ``wind_speed_m_s``, ``pressure_hpa`` (instants); ``meta`` has the
        file's ``latitude``, ``longitude``, ``altitude`` and ``TZ``.
    """
    raw, meta = pvlib.iotools.read_epw(str(path), coerce_year=coerce_year)
    if not raw.index.is_monotonic_increasing:  # TMY months from different years: give them one year
        raw, meta = pvlib.iotools.read_epw(str(path), coerce_year=int(raw.index[0].year))
    frame = pd.DataFrame(
        {
            "ghi_w_m2": raw["ghi"].astype(float),
            "dni_w_m2": raw["dni"].astype(float),
            "dhi_w_m2": raw["dhi"].astype(float),
            "temp_air_c": np.roll(raw["temp_air"].to_numpy(float), 1),
            "wind_speed_m_s": np.roll(raw["wind_speed"].to_numpy(float), 1),
            "pressure_hpa": np.roll(raw["atmospheric_pressure"].to_numpy(float), 1) / 100.0,
        },
        index=raw.index,
    )
    sampling: dict[str, Sampling] = {c: "average" for c in IRRADIANCE_COLUMNS}
    sampling |= {"temp_air_c": "instant", "wind_speed_m_s": "instant", "pressure_hpa": "instant"}
    weather = Weather(
        data=frame, step=pd.Timedelta(hours=1), sampling=sampling, source=Path(path).name, meta=dict(meta)
    )
    cswd = str(meta.get("data_type", "")).strip().upper() == "CSWD"
    if irradiance_offset is None:
        irradiance_offset = CSWD_IRRADIANCE_OFFSET if cswd else pd.Timedelta(0)
    if drop_dni is None:
        drop_dni = cswd
    if irradiance_offset != pd.Timedelta(0):
        from forecasting.resample import shift_averages  # resample builds on this module

        weather = shift_averages(weather, pd.Timedelta(irradiance_offset), cyclic=True)
    return weather.drop("dni_w_m2") if drop_dni else weather
