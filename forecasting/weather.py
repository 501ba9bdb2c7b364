"""Weather inputs: one validated container and readers for EPW/TMY, CSV and Open-Meteo JSON.

Every reader returns a :class:`Weather`: a tz-aware, equally spaced frame whose
columns use the names below (units in the names), and, per column, whether a
value is an *average* over ``[label, label + step)`` or an *instant* sample at
the label. Readers convert the sources' conventions to this one:

===============  ==========================================  =========================
source           irradiance                                  temperature, wind, cloud
===============  ==========================================  =========================
EPW (pvlib)      hour total; pvlib labels the hour's start   instant at the hour's end
CSV              as told by ``label`` (default ``"start"``)  as told by ``label``
Open-Meteo       mean of the *preceding* hour / 15 minutes   instant at the label
===============  ==========================================  =========================

Validation happens once, when a :class:`Weather` is built: naive or duplicate
timestamps, gaps, NaN, unknown units and implausible magnitudes are errors that
name the column and the time.

This module is the public face; the code lives in one module per job:

- ``weather_frame.py``: the :class:`Weather` container, canonical columns and
  plausible ranges, the validation, :func:`weather_from_frame` (time labels to
  interval starts) and :func:`typical_year_for` (re-dating a typical year);
- ``weather_csv.py``: :func:`read_weather_csv` and :func:`to_canonical_units`
  (``<quantity>_<unit>`` columns to the canonical units);
- ``weather_epw.py``: :func:`read_epw` with the China Standard Weather Data
  corrections (:data:`CSWD_IRRADIANCE_OFFSET`, DNI dropped);
- ``weather_open_meteo.py``: :func:`read_open_meteo_json`.
"""

from forecasting.weather_csv import read_weather_csv, to_canonical_units
from forecasting.weather_epw import CSWD_IRRADIANCE_OFFSET, read_epw
from forecasting.weather_frame import (
    IRRADIANCE_COLUMNS,
    NEGATIVE_IRRADIANCE_TOLERANCE_W_M2,
    PLAUSIBLE_RANGE,
    WEATHER_COLUMNS,
    Sampling,
    TimeLabel,
    Weather,
    typical_year_for,
    validate_weather_frame,
    weather_from_frame,
)
from forecasting.weather_open_meteo import OPEN_METEO_VARIABLES, read_open_meteo_json

__all__ = [
    "CSWD_IRRADIANCE_OFFSET",
    "IRRADIANCE_COLUMNS",
    "NEGATIVE_IRRADIANCE_TOLERANCE_W_M2",
    "OPEN_METEO_VARIABLES",
    "PLAUSIBLE_RANGE",
    "WEATHER_COLUMNS",
    "Sampling",
    "TimeLabel",
    "Weather",
    "read_epw",
    "read_open_meteo_json",
    "read_weather_csv",
    "to_canonical_units",
    "typical_year_for",
    "validate_weather_frame",
    "weather_from_frame",
]
