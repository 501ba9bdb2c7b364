"""State shared by the per-asset rules of the rule-based baseline."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.buses import ELECTRICITY
from optimizer.horizon import Horizon


@dataclass
class BaselineState:
    """The schedule being filled and, per bus, what is still to balance.

    ``net[bus][t] > 0`` is a deficit still to be supplied, ``< 0`` a surplus;
    ``net_kw`` is the electricity bus's.
    """

    horizon: Horizon
    net: dict[str, np.ndarray] = field(default_factory=dict)
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    curtailable_pv: list[str] = field(default_factory=list)
    uncovered_import_kw: np.ndarray | None = None  # metered import not yet covered by green contracts
    warnings: list[str] = field(default_factory=list)

    def bus(self, name: str) -> np.ndarray:
        """The net deficit of bus ``name`` (created at zero), modified in place by rules."""
        if name not in self.net:
            self.net[name] = np.zeros(self.horizon.n_steps)
        return self.net[name]

    def add_demand(self, column: str, values: float | list[float], bus: str) -> None:
        """Records a fixed demand series as ``column`` and adds it to ``bus``'s deficit."""
        demand = self.series(values)
        self.columns[column] = demand
        self.bus(bus)[:] += demand

    @property
    def net_kw(self) -> np.ndarray:
        return self.bus(ELECTRICITY)

    @net_kw.setter
    def net_kw(self, value: np.ndarray) -> None:
        self.net[ELECTRICITY] = value

    @property
    def dt_h(self) -> float:
        return self.horizon.dt_h

    def series(self, value: float | list[float]) -> np.ndarray:
        if isinstance(value, (int, float)):
            return np.full(self.horizon.n_steps, float(value))
        return np.asarray(value, dtype=float)
