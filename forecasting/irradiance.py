"""Irradiance on the horizon: solar position, clear sky, cloud cover, decomposition.

Which irradiance the PV model gets depends on what the weather holds, best first:

1. GHI, DNI and DHI: used as given (a missing third one is closed with
   :func:`pvlib.irradiance.complete_irradiance`);
2. GHI only: DNI and DHI from a decomposition model (Erbs by default, or
   DIRINT, or Erbs-Driesse);
3. cloud cover only: the Ineichen clear sky (Linke turbidity from pvlib's
   monthly climatology) scaled by cloud cover (:func:`cloud_cover_to_irradiance`);
4. nothing: the Ineichen clear sky, flagged with a warning.

Solar positions are evaluated at interval midpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pvlib

from forecasting.errors import WeatherDataError
from forecasting.resample import Shape
from forecasting.timeaxis import index_step, interval_midpoints
from forecasting.weather import Weather

Decomposition = Literal["erbs", "dirint", "erbs_driesse"]

#: Larson et al. (2016): GHI under full overcast is 35 % of clear sky.
CLOUD_COVER_OFFSET_FRAC = 0.35
#: Measured GHI above this multiple of clear sky (plus a margin) means wrong units, zone or labels.
CLEAR_SKY_EXCESS_FACTOR = 2.0
CLEAR_SKY_EXCESS_MARGIN_W_M2 = 100.0
#: Beyond this angle of incidence a tilted pyranometer sees (almost) no beam: GHI is not invertible from it.
MAX_INVERTIBLE_AOI_DEG = 85.0


@dataclass(frozen=True)
class IrradianceOnHorizon:
    """Irradiance averaged over each horizon interval.

    Attributes
    ----------
    data : DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m^2] on the horizon index (pvlib names).
    source : str
        How it was obtained (one of the four routes above).
    warnings : tuple of str
        Fallbacks the user should know about.
    """

    data: pd.DataFrame
    source: str
    warnings: tuple[str, ...] = ()


def solar_position(location: pvlib.location.Location, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Solar position at the midpoint of each interval, labelled by the interval start.

    Parameters
    ----------
    location : pvlib.location.Location
    index : DatetimeIndex
        Interval starts.

    Returns
    -------
    DataFrame
        :meth:`pvlib.location.Location.get_solarposition` columns [degrees].
    """
    position = location.get_solarposition(interval_midpoints(index))
    position.index = index
    return position


def clear_sky(location: pvlib.location.Location, times: pd.DatetimeIndex) -> pd.DataFrame:
    """Ineichen clear-sky ``ghi``, ``dni``, ``dhi`` [W/m^2] at ``times`` (Linke turbidity from pvlib's climatology)."""
    return location.get_clearsky(times, model="ineichen")


def clear_sky_on_index(location: pvlib.location.Location, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Clear sky evaluated at interval midpoints, labelled by interval starts."""
    sky = clear_sky(location, interval_midpoints(index))
    sky.index = index
    return sky


def clear_sky_shapes(location: pvlib.location.Location) -> dict[str, Shape]:
    """Shapes for :func:`forecasting.resample.average_to_index`: each irradiance column by its clear-sky twin."""

    def component(name: str) -> Shape:
        def shape(times: pd.DatetimeIndex) -> np.ndarray:
            return clear_sky(location, times)[name].to_numpy()

        return shape

    return {"ghi_w_m2": component("ghi"), "dni_w_m2": component("dni"), "dhi_w_m2": component("dhi")}


def cloud_cover_to_irradiance(
    cloud_cover_frac: pd.Series,
    clear: pd.DataFrame,
    position: pd.DataFrame,
    offset_frac: float = CLOUD_COVER_OFFSET_FRAC,
) -> pd.DataFrame:
    """GHI, DNI and DHI from cloud cover by scaling the clear sky.

    * ``ghi = ghi_clear * (offset + (1 - offset) * (1 - cloud_cover))``
      (Larson, Nonnenmacher and Coimbra, Renewable Energy 91, 2016; the rule
      of pvlib's former ``forecast`` module);
    * ``dni = dni_clear * (1 - cloud_cover)``: the sun is hidden for the
      covered fraction of the time;
    * ``dhi = ghi - dni * cos(zenith)`` (>= 0 for any cover).

    No cover reproduces the clear sky exactly and full cover is all diffuse
    at ``offset`` x clear-sky GHI, so more cloud never brightens a horizontal
    surface.

    Parameters
    ----------
    cloud_cover_frac : Series
        Total cloud cover [0-1].
    clear : DataFrame
        Clear-sky ``ghi``, ``dni``, ``dhi`` [W/m^2] at the same labels.
    position : DataFrame
        Solar position (``apparent_zenith`` [degrees], as pvlib's Ineichen uses) at the same labels.
    offset_frac : float
        GHI under full cover as a fraction of clear sky [0-1].

    Returns
    -------
    DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m^2].
    """
    sun = 1.0 - cloud_cover_frac.clip(0.0, 1.0).to_numpy()
    ghi = clear["ghi"].to_numpy() * (offset_frac + (1.0 - offset_frac) * sun)
    dni = clear["dni"].to_numpy() * sun
    cos_zenith = np.clip(np.cos(np.radians(position["apparent_zenith"].to_numpy())), 0.0, None)
    dhi = np.clip(ghi - dni * cos_zenith, 0.0, None)
    return pd.DataFrame({"ghi": ghi, "dni": dni, "dhi": dhi}, index=clear.index)


def decompose_ghi(
    ghi: pd.Series,
    position: pd.DataFrame,
    times: pd.DatetimeIndex,
    model: Decomposition = "erbs",
    pressure_hpa: pd.Series | None = None,
) -> pd.DataFrame:
    """DNI and DHI from GHI with a pvlib decomposition model.

    Parameters
    ----------
    ghi : Series
        Global horizontal irradiance [W/m^2].
    position : DataFrame
        Solar position at the same times (``zenith`` [degrees]).
    times : DatetimeIndex
        Times at which ``position`` was evaluated (interval midpoints).
    model : "erbs", "dirint" or "erbs_driesse"
    pressure_hpa : Series, optional
        Surface pressure for DIRINT [hPa]; standard pressure when omitted.

    Returns
    -------
    DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m^2], labelled like ``ghi``.
    """
    zenith = position["zenith"].to_numpy()
    g = ghi.to_numpy(dtype=float)
    if model == "erbs":
        parts = pvlib.irradiance.erbs(g, zenith, times)
        dni, dhi = np.asarray(parts["dni"]), np.asarray(parts["dhi"])
    elif model == "erbs_driesse":
        parts = pvlib.irradiance.erbs_driesse(g, zenith, times)
        dni, dhi = np.asarray(parts["dni"]), np.asarray(parts["dhi"])
    elif model == "dirint":
        pressure = pressure_hpa.to_numpy(dtype=float) * 100.0 if pressure_hpa is not None else 101325.0
        dni = np.asarray(pvlib.irradiance.dirint(pd.Series(g, index=times), zenith, times, pressure=pressure))
        dni = np.nan_to_num(dni)
        dhi = g - dni * np.cos(np.radians(zenith))
    else:
        raise ValueError(f"unknown decomposition model {model!r}; use 'erbs', 'dirint' or 'erbs_driesse'")
    dni = np.clip(np.nan_to_num(dni), 0.0, None)
    dhi = np.clip(np.nan_to_num(dhi), 0.0, None)
    return pd.DataFrame({"ghi": g, "dni": dni, "dhi": dhi}, index=ghi.index)


def check_against_clear_sky(weather: Weather, location: pvlib.location.Location, index: pd.DatetimeIndex) -> None:
    """Raise if weather GHI exceeds what the sky can give (wrong units, time zone or labels).

    Checked at the weather's own resolution, on the rows that overlap the
    horizon: the bound is 2 x the largest clear-sky GHI within the row's
    interval (or within half a step of an instant), plus 100 W/m^2 for cloud
    enhancement and turbidity error. At night the bound is 100 W/m^2, so a
    forecast labelled in UTC instead of local time is caught.

    Raises
    ------
    WeatherDataError
        Naming the column, the value, the time and the likely cause.
    """
    if "ghi_w_m2" not in weather.data.columns:
        return
    ghi = weather.data["ghi_w_m2"]
    step = weather.step
    end = index[-1] + index_step(index)
    if weather.sampling["ghi_w_m2"] == "average":
        rows = ghi[(ghi.index + step > index[0]) & (ghi.index < end)]
        fractions = np.linspace(0.0, 1.0, 7)
    else:
        rows = ghi[(ghi.index + step > index[0]) & (ghi.index - step < end)]
        fractions = np.linspace(-0.5, 0.5, 7)
    if rows.empty:
        return
    times = pd.DatetimeIndex(rows.index)
    bound = np.max([clear_sky(location, times + f * step)["ghi"].to_numpy() for f in fractions], axis=0)
    limit = CLEAR_SKY_EXCESS_FACTOR * bound + CLEAR_SKY_EXCESS_MARGIN_W_M2
    excess = rows.to_numpy(dtype=float) > limit
    if not excess.any():
        return
    at_night = excess & (bound <= 0.0)
    i = int(at_night.argmax()) if at_night.any() else int(excess.argmax())
    cause = (
        "the sun is below the horizon then: check the time zone and whether labels are interval starts or ends"
        if at_night.any()
        else "check the unit (W/m2, not Wh/m2 over a longer interval) and the time zone"
    )
    where = f" in {weather.source}" if weather.source else ""
    raise WeatherDataError(
        f"ghi_w_m2 = {rows.iloc[i]:.0f} W/m2 at {times[i]}{where} exceeds the clear-sky bound "
        f"of {limit[i]:.0f} W/m2; {cause}"
    )


def complete_irradiance(
    met: pd.DataFrame | None,
    location: pvlib.location.Location,
    index: pd.DatetimeIndex,
    position: pd.DataFrame,
    decomposition: Decomposition = "erbs",
    cloud_offset_frac: float = CLOUD_COVER_OFFSET_FRAC,
) -> IrradianceOnHorizon:
    """GHI, DNI and DHI on the horizon from whatever irradiance or cloud data the weather has.

    Parameters
    ----------
    met : DataFrame or None
        Weather on the horizon (canonical columns, e.g. ``ghi_w_m2``,
        ``cloud_cover_frac``); ``None`` for no weather at all.
    location : pvlib.location.Location
    index : DatetimeIndex
        Horizon interval starts.
    position : DataFrame
        :func:`solar_position` on ``index``.
    decomposition : "erbs", "dirint" or "erbs_driesse"
        Model used when only GHI is known.
    cloud_offset_frac : float
        See :func:`cloud_cover_to_irradiance`.

    Returns
    -------
    IrradianceOnHorizon
    """
    mid = interval_midpoints(index)
    sky = clear_sky_on_index(location, index)
    columns: Mapping[str, pd.Series] = {} if met is None else {c: met[c] for c in met.columns}
    have = {c for c in ("ghi_w_m2", "dni_w_m2", "dhi_w_m2") if c in columns}
    night = position["apparent_elevation"].to_numpy() <= 0.0
    if have == {"ghi_w_m2", "dni_w_m2", "dhi_w_m2"}:
        data = pd.DataFrame(
            {"ghi": columns["ghi_w_m2"], "dni": columns["dni_w_m2"], "dhi": columns["dhi_w_m2"]}, index=index
        )
        source = "measured/forecast GHI, DNI and DHI"
    elif len(have) == 2:
        completed = pvlib.irradiance.complete_irradiance(
            position["zenith"],
            ghi=columns.get("ghi_w_m2"),
            dhi=columns.get("dhi_w_m2"),
            dni=columns.get("dni_w_m2"),
            dni_clear=sky["dni"],
        )
        data = completed[["ghi", "dni", "dhi"]].fillna(0.0)
        missing = ({"ghi_w_m2", "dni_w_m2", "dhi_w_m2"} - have).pop().split("_")[0].upper()
        source = f"{missing} from the other two components (pvlib complete_irradiance)"
    elif "ghi_w_m2" in have:
        pressure = columns.get("pressure_hpa")
        data = decompose_ghi(columns["ghi_w_m2"], position.set_axis(mid), mid, decomposition, pressure)
        data.index = index
        source = f"GHI, decomposed into DNI and DHI ({decomposition})"
    elif have:
        raise WeatherDataError(f"weather has only {sorted(have)}: give GHI, or two of GHI, DNI and DHI")
    elif "cloud_cover_frac" in columns:
        data = cloud_cover_to_irradiance(columns["cloud_cover_frac"], sky, position, cloud_offset_frac)
        source = "cloud cover x clear sky (GHI: Larson 2016 linear; DNI: clear-sky DNI x (1 - cover))"
    else:
        return IrradianceOnHorizon(
            data=sky[["ghi", "dni", "dhi"]].copy(),
            source="clear sky (Ineichen, Linke turbidity climatology)",
            warnings=(
                "no irradiance or cloud cover in the weather input: PV is the CLEAR-SKY forecast, "
                "an upper bound, not a forecast of the actual day",
            ),
        )
    data = data.clip(lower=0.0)
    data.loc[night, ["dni"]] = 0.0
    return IrradianceOnHorizon(data=data, source=source)


def ghi_from_poa(
    poa_global: pd.Series,
    location: pvlib.location.Location,
    surface_tilt: float,
    surface_azimuth: float,
    albedo: float = 0.25,
    iterations: int = 30,
) -> pd.Series:
    """GHI from a tilted (plane-of-array) pyranometer: reverse transposition.

    The method of :func:`pvlib.irradiance.ghi_from_poa_driesse_2024` (bisection
    on GHI through the continuous Erbs-Driesse decomposition and Perez-Driesse
    transposition, both monotonic), run on whole arrays at once because pvlib's
    scalar bisection takes minutes for a year of quarter-hours. Decompose the
    result with ``decomposition="erbs_driesse"`` and transpose it with
    ``"perez-driesse"`` to get the measured POA back.

    Parameters
    ----------
    poa_global : Series
        Interval-average plane-of-array irradiance, labelled at interval starts [W/m^2].
    location : pvlib.location.Location
    surface_tilt, surface_azimuth : float
        Orientation of the pyranometer [degrees; azimuth clockwise from north].
    albedo : float
        Ground reflectance [0-1] (pvlib's default for this method, 0.25).
    iterations : int
        Bisection steps; 30 halve a 0-1,500 W/m^2 bracket to 1.4e-6 W/m^2.

    Returns
    -------
    Series
        GHI [W/m^2] on the same labels; 0 at night. Where the sun is behind or
        grazing the plane (angle of incidence >= 85 deg) the POA is diffuse
        light, which has no unique inverse; it is taken as isotropic diffuse:
        ``ghi = poa * 2 / (1 + cos(tilt))``.
    """
    index = pd.DatetimeIndex(poa_global.index)
    position = solar_position(location, index)
    mid = interval_midpoints(index)
    day = position["apparent_elevation"].to_numpy() > 0.0
    target = np.clip(poa_global.to_numpy(dtype=float)[day], 0.0, None)
    pos, times = position[day].set_axis(mid[day]), mid[day]
    dni_extra = pvlib.irradiance.get_extra_radiation(times).to_numpy()
    airmass = pvlib.atmosphere.get_relative_airmass(pos["apparent_zenith"].to_numpy())

    def forward(ghi: np.ndarray) -> np.ndarray:
        parts = decompose_ghi(pd.Series(ghi, index=times), pos, times, "erbs_driesse")
        poa = pvlib.irradiance.get_total_irradiance(
            surface_tilt,
            surface_azimuth,
            pos["apparent_zenith"].to_numpy(),
            pos["azimuth"].to_numpy(),
            parts["dni"].to_numpy(),
            ghi,
            parts["dhi"].to_numpy(),
            dni_extra=dni_extra,
            airmass=airmass,
            albedo=albedo,
            model="perez-driesse",
        )
        return np.nan_to_num(np.asarray(poa["poa_global"], dtype=float))

    low = np.zeros_like(target)
    high = np.full_like(target, 1500.0)
    for _ in range(iterations):
        middle = (low + high) / 2.0
        below = forward(middle) < target
        low = np.where(below, middle, low)
        high = np.where(below, high, middle)
    estimate = (low + high) / 2.0
    # with the sun behind or grazing the plane the POA is diffuse light only, which is not monotonic in
    # GHI (more GHI means a clearer sky and less diffuse): no unique inverse, so take it as isotropic diffuse
    aoi = pvlib.irradiance.aoi(surface_tilt, surface_azimuth, pos["apparent_zenith"], pos["azimuth"]).to_numpy()
    behind = (aoi >= MAX_INVERTIBLE_AOI_DEG) | (forward(high) < target - 1.0)
    all_diffuse = target * 2.0 / (1.0 + np.cos(np.radians(surface_tilt)))
    ghi = np.zeros(len(index))
    ghi[day] = np.where(behind, all_diffuse, estimate)
    return pd.Series(ghi, index=poa_global.index, name="ghi_w_m2")
