"""Console rendering of dispatch results (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optimizer import DispatchResult


def _fmt(value: float | None, pattern: str = "{:,.1f}") -> str:
    return "-" if value is None else pattern.format(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def print_result(result: DispatchResult, console: Console | None = None) -> None:
    """KPIs of the optimised schedule beside the rule-based baseline, and the solver report."""
    console = console or Console()
    report = result.report
    label = "optimised" if result.schedule_source == "optimizer" else "FALLBACK (rule-based)"
    console.print(f"[bold]status[/bold]: {result.status}  schedule: {label}")
    if result.diagnosis:
        console.print(
            "[red]infeasible:[/red] " + "; ".join(f"{v.constraint} by {v.amount:.3g}" for v in result.diagnosis[:5])
        )
    table = Table(title="KPIs")
    table.add_column("KPI")
    table.add_column(label, justify="right")
    table.add_column("rule-based baseline", justify="right")
    opt, base = result.kpis, result.baseline_kpis
    components = list(dict.fromkeys([*opt.cost_cny_by_component, *base.cost_cny_by_component]))
    for component in components:
        table.add_row(
            escape(f"cost: {component} [CNY]"),
            _fmt(opt.cost_cny_by_component.get(component, 0.0), "{:,.2f}"),
            _fmt(base.cost_cny_by_component.get(component, 0.0), "{:,.2f}"),
        )
    rows = [
        ("energy cost [CNY]", _fmt(opt.energy_cost_cny, "{:,.2f}"), _fmt(base.energy_cost_cny, "{:,.2f}")),
        ("emissions, location-based [kgCO2]", _fmt(opt.emissions_location_kgco2), _fmt(base.emissions_location_kgco2)),
        ("emissions, market-based [kgCO2]", _fmt(opt.emissions_market_kgco2), _fmt(base.emissions_market_kgco2)),
        ("PV self-consumption", _pct(opt.pv_self_consumption_frac), _pct(base.pv_self_consumption_frac)),
        ("green share", _pct(opt.green_share_frac), _pct(base.green_share_frac)),
        ("peak import [kW]", _fmt(opt.peak_import_kw), _fmt(base.peak_import_kw)),
        (
            "import / export [kWh]",
            f"{opt.import_kwh:,.0f} / {opt.export_kwh:,.0f}",
            f"{base.import_kwh:,.0f} / {base.export_kwh:,.0f}",
        ),
        ("PV curtailed [kWh]", _fmt(opt.curtailment_kwh), _fmt(base.curtailment_kwh)),
    ]
    optional = [
        ("gas use [Nm3]", "gas_use_nm3"),
        ("recovered heat [kWh_th]", "recovered_heat_kwh"),
        ("recovered heat dumped [kWh_th]", "dumped_heat_kwh"),
        ("gas displaced by recovered heat [Nm3]", "gas_displaced_nm3"),
        ("compressor running hours [h]", "compressor_running_h"),
        ("compressor starts", "compressor_starts"),
        ("cooling shifted out of peak/sharp [kWh_th]", "cooling_shifted_from_peak_kwh"),
    ]
    for label, field in optional:
        if getattr(opt, field) is not None:
            rows.append((label, _fmt(getattr(opt, field)), _fmt(getattr(base, field))))
    for label, *values in rows:
        table.add_row(escape(label), *values)
    console.print(table)
    for shortfall in opt.target_shortfalls:
        state = "met" if shortfall.shortfall <= 1e-6 else f"SHORT by {shortfall.shortfall:,.1f} {shortfall.unit}"
        console.print(f"target {shortfall.target}: required {shortfall.required:,.1f} {shortfall.unit}, {state}")
    if result.saving_cny is None:  # the baseline leaves demand unmet: no saving is stated against it
        console.print(f"[yellow]{escape(result.savings.label or '')}; no saving is stated against it[/yellow]")
    else:
        console.print(f"[bold green]saving over the rule-based baseline: {result.saving_cny:,.2f} CNY[/bold green]")
    size = report.size
    size_text = (
        f"{size.variables} variables ({size.binaries} binary, {size.integers} integer), {size.constraints} constraints"
        if size
        else ""
    )
    console.print(
        f"solver {report.solver} {report.solver_version}: {report.termination}, "
        f"objective {_fmt(report.objective, '{:,.2f}')}, gap {_fmt(report.mip_gap, '{:.2e}')}; "
        f"build {report.build_seconds:.3f} s, solve {report.solve_seconds:.3f} s, "
        f"HiGHS {_fmt(report.highs_seconds, '{:.3f}')} s; {size_text}"
    )
    for warning in result.baseline_warnings:
        console.print(f"[yellow]baseline: {warning}[/yellow]")
