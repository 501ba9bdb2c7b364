"""Part-load power of a compressor: the VSD curve and the load/unload cycling loss.

**VSD curve.** Power as a fraction of full-load power is a convex piecewise-linear
function of the flow fraction, given as (flow_frac, power_frac) breakpoints up to
(1, 1). The model bounds power from below by each piece (tangent cuts, exact at the
optimum because power costs money); where extra power could pay (heat recovery
credits it, or burning energy pays) segment binaries put it exactly on the curve.

The default curve (:data:`DEFAULT_VSD_CURVE`) has the shape of the CAGI "Rotary
Compressor Performance Verification" data sheets for variable-speed rotary screw
compressors (CAGI publishes specific package power at several capacities for VSD
units): specific power (kW per m3/min) about flat from 60 to 100 % of rated flow,
a few per cent *better* near 60 %, and rising at low flow, where fixed losses (fan,
drive, motor magnetisation) are spread over less air: 1.40 x the full-load value at
20 %, 2.05 x at 10 % [est: typical CAGI-sheet values, not one machine's]. Its
extension to zero flow, 13 % of full-load power, is close to the 15 % that the
US DOE's MEASUR tool assumes for VFD turndown points (ORNL-AMO/AMO-Tools-Suite,
``compressor_performance_points.cpp``, ``vfdPointPower``: power = (0.15 (1 - f) + f)
x full-load power) [src]. That rise at low flow, with the load/unload cycling loss
below, is what makes good practice emerge from the costs: fixed-speed units
base-loaded, the VSD trimming.

**Load/unload cycling.** A fixed-speed unit delivering a share ``y`` of its rated
flow cycles between loaded and unloaded against the air stored in the pressure band
(receivers and piping, ``storage_m3`` of free air). Filling the band at the net rate
``(1 - y) Q`` and draining it at ``y Q`` gives

    cycles per minute = y (1 - y) Q / V        (Q rated flow [m3/min], V storage [m3])

(the receiver-sizing relation of the Atlas Copco Compressed Air Manual, most cycles at
half load). Each cycle loses ``cycle_loss_s`` seconds of the difference between
full-load and unloaded power: after unloading the sump blows down over tens of seconds
(MEASUR/AirMaster+ default for lubricant-injected screws: 40 s blow-down to within 2 %,
a time constant of 40 / ln 50 = 10.2 s), and reloading takes about 3 s in which the
unit draws power but delivers no air (MEASUR ``t_reload``) [src: ORNL-AMO/AMO-Tools-Suite
``Compressors_LoadUnload::CurveFit``]; :data:`TYPICAL_CYCLE_LOSS_S` adds these up.
The lost share of ``(full - unloaded)`` power is then

    loss(y) = k y (1 - y),   k = Q * cycle_loss_s / (60 V)    (k capped at 1, below)

so a unit at half load with 3 gallons of storage per cfm (about 16 s of its rated
flow at a 10 psi band: k = 15 / 16.4 = 0.92) draws 78 % of full-load power instead of
the ideal 60 % (20 % unloaded power), with 10 gal/cfm (k = 0.27) about 65 %: the shape
of the Compressed Air Challenge's load/unload curves for 1, 3, 5 and 10 gal/cfm (worse
the less storage), and why practice asks 3-10 gal/cfm for a load/unload trim unit
(e.g. Plant Engineering, "Best practices for compressor storage": 5-10). k is capped
at 1 (less than ``cycle_loss_s`` seconds of rated flow in the band): such a unit
hardly unloads, and the cap keeps the loss below ``1 - y``, the unloaded time.
The model interpolates ``k y (1 - y)`` at y = 0, 1/4, 1/2, 3/4 and 1 as a function
of the distance ``d`` of the group's loaded share to the nearest whole number of
units (only one unit of a group needs to cycle):

    loss = min(3k/4 * d, k/8 + k/4 * d),   d in [0, 1/2]

a concave function, so the model needs two integers per step: ``trim_units`` (the
whole number of units the loaded share is nearest to) and ``trim_piece`` (which of the
two lines); ``loss`` is bounded from below by the chosen line, exact at the optimum
because power costs money. Where extra power could pay (as for the VSD curve) it is
also bounded from above by both lines and a third binary makes ``d`` exactly the
distance. No LP can do with less: the loss is 0 at whole units and positive between,
so its convex hull is 0.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pyomo.core as pyo

from optimizer.assets.base import BuildContext
from optimizer.errors import SpecError

if TYPE_CHECKING:
    from optimizer.assets.compressors import CompressorSpec

DEFAULT_VSD_CURVE: tuple[tuple[float, float], ...] = ((0.0, 0.13), (0.6, 0.58), (1.0, 1.0))
"""Default VSD curve, (flow_frac, power_frac): slopes 0.75 then 1.05, so specific power is 1.40 x the full-load
value at 20 % flow, 1.01 x at 50 %, 0.967 x at 60 % (the best) and 0.988 x at 80 % (CAGI VSD data-sheet shape
[est]; see the module doc)."""
TYPICAL_CYCLE_LOSS_S = 15.0
"""Energy lost per load/unload cycle of a lubricant-injected screw, in seconds of (full-load - unloaded) power:
the sump's blow-down, 40 s to within 2 % (time constant 40 / ln 50 = 10.2 s), plus reloading, 3 s without
delivery that the unit makes up at full load (3 s) while its power ramps up from unloaded (half of it, 1.5 s):
10.2 + 3 + 1.5 = 14.7, about 15 s [src: MEASUR/AirMaster+ defaults; the sum ours]."""
MAX_CYCLING_COEFFICIENT = 1.0
"""Cap of k in loss = k y (1 - y); at k = 1 a half-loaded unit draws u + (1 - u) 3/4 of full-load power."""
CONVEXITY_TOLERANCE = 1e-9
FLOW_TOLERANCE = 1e-9


class CurveSegment:
    """One linear piece of a VSD curve: ``power_frac = slope * flow_frac + intercept`` on [low, high]."""

    def __init__(self, low: float, high: float, slope: float, intercept: float) -> None:
        self.low, self.high, self.slope, self.intercept = low, high, slope, intercept


def check_curve(points: list[tuple[float, float]], min_flow_frac: float) -> None:
    """Raises :class:`SpecError` (field ``power_curve``) unless the breakpoints make a convex curve from at most
    ``min_flow_frac`` to (1, 1)."""
    if len(points) < 2:
        raise SpecError("needs at least two (flow_frac, power_frac) breakpoints", field="power_curve")
    flows = [f for f, _ in points]
    if any(b <= a for a, b in itertools.pairwise(flows)):
        raise SpecError(f"flow fractions must increase strictly, got {flows}", field="power_curve")
    if flows[0] < 0.0 or flows[0] > min_flow_frac + FLOW_TOLERANCE:
        raise SpecError(
            f"must start at or below min_flow_frac {min_flow_frac} (and not below 0), "
            f"it starts at flow fraction {flows[0]}",
            field="power_curve",
        )
    if abs(points[-1][0] - 1.0) > FLOW_TOLERANCE or abs(points[-1][1] - 1.0) > FLOW_TOLERANCE:
        raise SpecError(
            f"must end at (1.0, 1.0), full flow at full-load power, it ends at {points[-1]}",
            field="power_curve",
        )
    if any(p < 0.0 or p > 1.0 + FLOW_TOLERANCE for _, p in points):
        raise SpecError(f"power fractions must be within 0-1 of full-load power, got {points}", field="power_curve")
    slopes = [(p1 - p0) / (f1 - f0) for (f0, p0), (f1, p1) in itertools.pairwise(points)]
    for i in range(1, len(slopes)):
        if slopes[i] < slopes[i - 1] - CONVEXITY_TOLERANCE:
            raise SpecError(
                f"is not convex: the slope between breakpoints {i} and {i + 1} ({slopes[i]:.4g}) is "
                f"below the slope between breakpoints {i - 1} and {i} ({slopes[i - 1]:.4g}); the model bounds "
                "power from below by each segment, which is only right for a convex curve (slopes that never "
                "decrease) - use a convex fit",
                field="power_curve",
            )


def curve_segments(points: list[tuple[float, float]], min_flow_frac: float) -> list[CurveSegment]:
    """The curve's linear pieces over the operating range [min_flow_frac, 1]."""
    pieces = list(itertools.pairwise(points))
    segments = []
    for i, ((f0, p0), (f1, p1)) in enumerate(pieces):
        last = i == len(pieces) - 1
        if f1 > min_flow_frac + FLOW_TOLERANCE or last:
            slope = (p1 - p0) / (f1 - f0)
            segments.append(CurveSegment(min(max(f0, min_flow_frac), f1), f1, slope, p0 - slope * f0))
    return segments


def add_vsd_curve(spec: CompressorSpec, block: pyo.Block, ctx: BuildContext) -> None:
    """VSD power on its curve: one equality for a single segment, tangent cuts (and, where extra power could
    pay, segment binaries) for several."""
    rated = spec.rated_flow_m3_per_min
    full = spec.full_load_power_kw
    on, flow, power = block.on, block.flow_m3_per_min, block.power_kw
    low = spec.min_flow_frac * rated
    block.min_flow_when_on = pyo.Constraint(ctx.steps, rule=lambda b, t: flow[t] >= low * on[t])
    segments = spec.curve_segments()
    if len(segments) == 1:
        s = segments[0]
        block.power_on_curve = pyo.Constraint(
            ctx.steps, rule=lambda b, t: power[t] == full * (s.slope * flow[t] / rated + s.intercept * on[t])
        )
        return
    block.S = pyo.Set(initialize=range(len(segments)))
    block.power_above_segment = pyo.Constraint(
        block.S,
        ctx.steps,
        rule=lambda b, i, t: power[t] >= full * (segments[i].slope * flow[t] / rated + segments[i].intercept * on[t]),
    )
    ctx.finalizers.append(lambda c: put_power_on_curve(spec, block, c, segments))


def put_power_on_curve(spec: CompressorSpec, block: pyo.Block, ctx: BuildContext, segments: list[CurveSegment]) -> None:
    """Segment binaries (one active segment when on) so that power cannot exceed the curve."""
    mode = spec.exact_power_curve
    extra_power_can_pay = spec.heat_recovery_frac > 0 or ctx.energy_burning_pays()
    if mode == "never" or (mode == "auto" and not extra_power_can_pay):
        return
    rated = spec.rated_flow_m3_per_min
    full = spec.full_load_power_kw
    if spec.units == 1:
        block.segment_active = pyo.Var(block.S, ctx.steps, domain=pyo.Binary)
    else:  # units running on each segment
        block.segment_active = pyo.Var(block.S, ctx.steps, domain=pyo.NonNegativeIntegers, bounds=(0, spec.units))
    block.segment_flow_frac = pyo.Var(block.S, ctx.steps, bounds=(0.0, spec.units))
    z, x = block.segment_active, block.segment_flow_frac
    block.one_segment_when_on = pyo.Constraint(ctx.steps, rule=lambda b, t: sum(z[i, t] for i in b.S) == b.on[t])
    block.segment_flow_low = pyo.Constraint(
        block.S, ctx.steps, rule=lambda b, i, t: x[i, t] >= segments[i].low * z[i, t]
    )
    block.segment_flow_high = pyo.Constraint(
        block.S, ctx.steps, rule=lambda b, i, t: x[i, t] <= segments[i].high * z[i, t]
    )
    block.flow_from_segments = pyo.Constraint(
        ctx.steps, rule=lambda b, t: b.flow_m3_per_min[t] == rated * sum(x[i, t] for i in b.S)
    )
    block.power_from_segments = pyo.Constraint(
        ctx.steps,
        rule=lambda b, t: (
            b.power_kw[t] == full * sum(segments[i].slope * x[i, t] + segments[i].intercept * z[i, t] for i in b.S)
        ),
    )


# --- load/unload cycling ----------------------------------------------------------------------


def cycling_coefficient(rated_flow_m3_per_min: float, storage_m3: float, cycle_loss_s: float) -> float:
    """k of ``loss = k y (1 - y)`` [share of (full - unloaded) power]: ``Q * cycle_loss_s / (60 V)``, at most 1."""
    return min(MAX_CYCLING_COEFFICIENT, rated_flow_m3_per_min * cycle_loss_s / (60.0 * storage_m3))


def cycling_loss(k: float, loaded_units: float) -> float:
    """The modelled loss of a group whose loaded units add up to ``loaded_units`` [share of one unit's
    (full - unloaded) power]: ``k y (1 - y)`` interpolated at quarter loads, for the one unit that cycles."""
    d = abs(loaded_units - round(loaded_units))
    return min(0.75 * k * d, 0.125 * k + 0.25 * k * d)


def add_cycling_loss(block: pyo.Block, ctx: BuildContext, k: float, units: int) -> None:
    """``block.cycling_loss[t]`` (a share of one unit's (full - unloaded) power) from ``block.loaded_frac[t]``.

    ``trim_units`` is the whole number of units the loaded share is nearest to, ``cycling_distance`` the
    distance to it (at most 1/2), ``trim_piece`` 1 on the flatter line of the concave interpolation; the loss
    is bounded from below only, exact at the optimum because power costs money (see
    :func:`make_cycling_loss_exact` for when it does not).
    """
    steps = ctx.steps
    loaded = block.loaded_frac
    domain = pyo.Binary if units == 1 else pyo.NonNegativeIntegers
    block.trim_units = pyo.Var(steps, domain=domain, bounds=(0, units))
    block.cycling_distance = pyo.Var(steps, bounds=(0.0, 0.5))
    block.trim_piece = pyo.Var(steps, domain=pyo.Binary)
    block.cycling_loss = pyo.Var(steps, bounds=(0.0, 0.25 * k))
    d, m, piece, loss = block.cycling_distance, block.trim_units, block.trim_piece, block.cycling_loss
    steep, flat, offset = 0.75 * k, 0.25 * k, 0.125 * k
    block.cycling_distance_above = pyo.Constraint(steps, rule=lambda b, t: d[t] >= loaded[t] - m[t])
    block.cycling_distance_below = pyo.Constraint(steps, rule=lambda b, t: d[t] >= m[t] - loaded[t])
    # loss >= the chosen line; the other line's row is relaxed by its value at d = 1/2 (a valid big-M).
    block.cycling_loss_steep = pyo.Constraint(steps, rule=lambda b, t: loss[t] >= steep * d[t] - 0.5 * steep * piece[t])
    block.cycling_loss_flat = pyo.Constraint(
        steps, rule=lambda b, t: loss[t] >= offset + flat * d[t] - (offset + 0.5 * flat) * (1 - piece[t])
    )


def make_cycling_loss_exact(block: pyo.Block, ctx: BuildContext, k: float) -> None:
    """Where extra power could pay: the loss at most both lines (so exactly the lower one) and a binary
    ``trim_above`` that makes ``cycling_distance`` exactly the distance to ``trim_units``."""
    steps = ctx.steps
    loaded, d, m, loss = block.loaded_frac, block.cycling_distance, block.trim_units, block.cycling_loss
    block.cycling_loss_below_steep = pyo.Constraint(steps, rule=lambda b, t: loss[t] <= 0.75 * k * d[t])
    block.cycling_loss_below_flat = pyo.Constraint(steps, rule=lambda b, t: loss[t] <= 0.125 * k + 0.25 * k * d[t])
    block.trim_above = pyo.Var(steps, domain=pyo.Binary)
    above = block.trim_above
    # above = 1: d <= loaded - m (so d = loaded - m); above = 0: d = m - loaded; the relaxed row holds as d <= 1/2.
    block.cycling_distance_exact_above = pyo.Constraint(
        steps, rule=lambda b, t: d[t] <= loaded[t] - m[t] + (1 - above[t])
    )
    block.cycling_distance_exact_below = pyo.Constraint(steps, rule=lambda b, t: d[t] <= m[t] - loaded[t] + above[t])
