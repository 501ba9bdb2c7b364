"""State shared by the per-asset rules of the rule-based baseline."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.horizon import Horizon


@dataclass
class BaselineState:
    """The schedule being filled and the electricity still to balance.

    ``net_kw[t] > 0`` is a deficit still to be supplied, ``< 0`` a surplus.
    """

    horizon: Horizon
    net_kw: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    curtailable_pv: list[str] = field(default_factory=list)
    uncovered_import_kw: np.ndarray | None = None  # metered import not yet covered by green contracts
    warnings: list[str] = field(default_factory=list)

    @property
    def dt_h(self) -> float:
        return self.horizon.dt_h

    def series(self, value: float | list[float]) -> np.ndarray:
        if isinstance(value, (int, float)):
            return np.full(self.horizon.n_steps, float(value))
        return np.asarray(value, dtype=float)
