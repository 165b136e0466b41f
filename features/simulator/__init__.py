"""The synthetic county: a weekly simulation of a county's registry that knows the true risk.

Public entry points:
- :func:`simulate_county` runs the history and the oracle (returns a ``CountyRun``);
- :func:`summarise` gives its realism figures;
- :func:`write_county` writes the county folder (history, weekly exports, truth);
- :func:`simulate_snapshot` draws one week's export for up to a million households, fast.
"""

from features.simulator.county import CountyRun, simulate_county
from features.simulator.export import write_county
from features.simulator.scenarios import SCENARIOS
from features.simulator.snapshot import simulate_snapshot
from features.simulator.summary import summarise

__all__ = ["CountyRun", "SCENARIOS", "simulate_county", "simulate_snapshot", "summarise", "write_county"]
