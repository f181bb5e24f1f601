"""ReviewDesk's scoring engine: SPEC §3 as pure functions over pandas frames.

No database, no I/O, no UI: frames in, frames out (see docs/architecture.md,
"The scoring engine's frames").
"""

from .aggregate import aggregate_totals
from .analysis import (
    Analysis,
    analyse,
    contributions,
    coverage_summary,
    cut_lines,
    ordered_groups,
)
from .components import component_table, counted_totals
from .diagnostics import (
    Diagnostics,
    diagnose,
    kendall_w,
    kendall_w_by_panel,
    outlier_flags,
    reviewer_diagnostics,
    reviewer_summary,
)
from .method import (
    ALL_GROUP,
    Component,
    Method,
    Override,
    group_label,
    method_from_dict,
    method_to_dict,
)
from .normalise import normalise_totals, zscore
from .ranking import assign_awards, composite_scores, rank_entries, tolerant_levels
from .stability import rank_stability, weight_scenarios, weight_stability
from .standings import compute_standings, rank_components, standings_columns, standings_records
from .totals import reviewer_totals
from .votes import votes_scores

__all__ = [
    "ALL_GROUP",
    "Analysis",
    "Component",
    "Diagnostics",
    "Method",
    "Override",
    "aggregate_totals",
    "analyse",
    "assign_awards",
    "component_table",
    "composite_scores",
    "compute_standings",
    "contributions",
    "counted_totals",
    "coverage_summary",
    "cut_lines",
    "diagnose",
    "group_label",
    "kendall_w",
    "kendall_w_by_panel",
    "method_from_dict",
    "method_to_dict",
    "normalise_totals",
    "ordered_groups",
    "outlier_flags",
    "rank_components",
    "rank_entries",
    "rank_stability",
    "reviewer_diagnostics",
    "reviewer_summary",
    "reviewer_totals",
    "standings_columns",
    "standings_records",
    "tolerant_levels",
    "votes_scores",
    "weight_scenarios",
    "weight_stability",
    "zscore",
]
