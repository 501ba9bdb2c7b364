"""The VSD power curve of a compressor: its checks, its linear pieces and its constraints.

Power as a fraction of full-load power is a convex piecewise-linear function of
the flow fraction, given as (flow_frac, power_frac) breakpoints up to (1, 1).
The model bounds power from below by each piece (tangent cuts, exact at the
optimum because power costs money); where extra power could pay (heat recovery
credits it, or burning energy pays) segment binaries put it exactly on the curve.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pyomo.environ as pyo

from optimizer.assets.base import BuildContext
from optimizer.errors import SpecError

if TYPE_CHECKING:
    from optimizer.assets.compressors import CompressorSpec

DEFAULT_CURVE_SLOPE = (1.0 - 0.25) / (1.0 - 0.2)  # the line through (0.2, 0.25) and (1.0, 1.0)
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
