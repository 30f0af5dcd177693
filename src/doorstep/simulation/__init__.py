"""City simulator: a synthetic Shanghai week driven through the real services (issue 3 §5)."""

from doorstep.simulation.params import POLICIES, SimParams

__all__ = ["POLICIES", "SimParams"]
