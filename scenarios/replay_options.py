"""What a replay is asked to run: the strategies it compares and the options of its forecasts and re-plans.

The vocabulary shared by the replay modules (:mod:`scenarios.replay` and its helpers), so none of them has to
import the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

DAY_AHEAD = "day_ahead"
INTRADAY = "intraday"
PERFECT_FORESIGHT = "perfect_foresight"
STRATEGIES = (DAY_AHEAD, INTRADAY, PERFECT_FORESIGHT)
"""The strategies, in the order of the expected costs (highest first)."""


@dataclass(frozen=True)
class ReplayOptions:
    """How the replay forecasts and re-plans."""

    every_minutes: int = 60
    """Re-plan interval of the intraday strategy [min]; a multiple of the scenario's step."""
    history_days: int = 28
    """Days of actual history behind the day-ahead load forecast (and the PV 'max seen') [days]."""
    correction_window_minutes: int = 60
    """The intraday error is the mean over this long before the re-plan [min]."""
    correction_decay_h: float = 2.0
    """The intraday error fades as exp(-h / this) with h hours ahead [h]."""


def parse_every(text: str, step_minutes: int) -> int:
    """``"1h"``, ``"30min"``, ``"2h"`` as minutes; a positive multiple of ``step_minutes`` of at most a day."""
    try:
        minutes = pd.Timedelta(text).total_seconds() / 60.0
    except ValueError as error:
        raise ValueError(f"{text!r} is not a duration (e.g. 1h, 30min)") from error
    if minutes <= 0 or minutes > 1440 or minutes % step_minutes:
        raise ValueError(f"{text!r}: the re-plan interval must be a multiple of the {step_minutes}-min step, <= 1 day")
    return int(minutes)
