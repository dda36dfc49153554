"""The dashboard's one door into supplytwin: scenarios, networks, runs, registry and artefacts.

Every other dashboard module (pages, components, figures) works on plain Python values and
pandas tables and reaches the simulator, the scenario loader and the run registry only through
this package, one module per concern:

* :mod:`~dashboard.services.checks` — :class:`UserError` and the checks on what the browser
  sends (names, run ids, bounded numbers);
* :mod:`~dashboard.services.workspace` — the folders the dashboard may touch and scenarios
  named by keys (``bundled/baseline.yaml``, ``saved/NAME.yaml``), never by paths;
* :mod:`~dashboard.services.network` — a scenario's network as tables for the map;
* :mod:`~dashboard.services.scenarios` — the Scenario page's knobs, as ``--set`` overrides or
  a saved scenario;
* :mod:`~dashboard.services.disruptions` — new disruptions a planner writes on the Scenario
  page: kinds, targets, what a magnitude means, windows entered as dates;
* :mod:`~dashboard.services.jobs` — background jobs (recorded runs, optimisations) the pages
  poll and cancel;
* :mod:`~dashboard.services.runs` — the registry, a run's artefacts and comparisons;
* :mod:`~dashboard.services.damage` — where the damage landed: breakdowns of a difference,
  service by customer, disruption windows, values that colour the map by results;
* :mod:`~dashboard.services.design` — the Optimise page: designs and their simulation;
* :mod:`~dashboard.services.report_figures` — the HTML report's figures, shared;
* :mod:`~dashboard.services.stress` — the Stress page: bundled batteries, runs and results.
* :mod:`~dashboard.services.twin` — the Twin page: snapshots (today's position), runs forward
  from them, calibrations and monitoring checks.

Three rules hold throughout. **Paths**: the browser never sends one; artefacts and reports are
opened only from inside the runs folder. **Errors**: what a user can cause becomes a
:class:`UserError` with a readable message that the page shows; nothing reaches the browser as
a traceback. **Long work** runs in :class:`JobRunner` threads on the code paths of the CLI.

Every public name is re-exported here, so ``from dashboard import services; services.load(...)``
is how pages call them.
"""

from dashboard.services.checks import (  # noqa: F401
    MAX_HORIZON_DAYS,
    MAX_MULTIPLIER,
    MAX_NAME_LENGTH,
    MAX_REPLICATIONS,
    NAME_PATTERN,
    RUN_ID_PATTERN,
    UserError,
    _blank,
    _clean,
    _positive,
    _shown,
    _under,
    check_name,
    check_run_id,
)
from dashboard.services.damage import (  # noqa: F401
    BREAKDOWNS,
    MAP_METRICS,
    customer_attributes,
    day_date,
    disruption_windows,
    map_values,
    most_affected_stock_point,
    run_breakdown,
    run_disruption_windows,
    run_scenario,
    run_service,
    upstream_products,
)
from dashboard.services.design import (  # noqa: F401
    MAX_K_SOURCING,
    MAX_OPT_TIME_LIMIT_S,
    OBJECTIVES,
    OptimiseSettings,
    design_tables,
    optimise_design,
    simulate_design,
    start_design_simulation,
    start_optimise,
    validate_optimise_settings,
)
from dashboard.services.disruptions import (  # noqa: F401
    NEW_KINDS,
    kind_options,
    magnitude_meaning,
    new_disruption,
    target_options,
)
from dashboard.services.jobs import (  # noqa: F401
    JOBS,
    Job,
    JobRunner,
    Task,
    start_run,
)
from dashboard.services.network import (  # noqa: F401
    TEMPERATURE_ORDER,
    network_tables,
    site_detail,
    site_kinds,
)
from dashboard.services.report_figures import (  # noqa: F401
    COST_CATEGORIES,
    HEADLINE_KPIS,
    KIND_STYLE,
    MODE_STYLE,
    cost_breakdown_figure,
    inventory_band_figure,
    kpi_ci_figure,
    normalise_differences,
    paired_difference_figure,
    sweep_figure,
    waste_figure,
)
from dashboard.services.runs import (  # noqa: F401
    RunData,
    check_ref,
    compare_runs,
    list_runs,
    load_run,
    load_sweep,
    open_href,
    report_file,
    report_path,
    run_labels,
    run_record,
    run_sides,
    side_name,
    split_ref,
)
from dashboard.services.scenarios import (  # noqa: F401
    POLICY_FIELDS,
    Knobs,
    Saved,
    added_disruptions,
    describe_knobs,
    disruption_edit_sets,
    inherited_edit,
    knob_options,
    knob_sets,
    save_scenario,
    scenario_document,
    site_policies,
    validate_knobs,
)
from dashboard.services.stress import (  # noqa: F401
    MAX_STRESS_REPS,
    battery_path,
    list_batteries,
    start_battery,
    stress_runs,
    stress_sides,
    stress_summary,
)
from dashboard.services.twin import (  # noqa: F401
    MAX_FORWARD_DAYS,
    calibration_keys,
    calibration_view,
    position_tables,
    read_position,
    snapshot_folder,
    snapshot_keys,
    start_forward_run,
)
from dashboard.services.workspace import (  # noqa: F401
    BUNDLED,
    CONFIG_KEY,
    SAVED,
    Workspace,
    current,
    display_path,
    list_scenarios,
    load,
    make_workspace,
    project_scenarios_dir,
    scenario_key,
    scenario_path,
)
from supplytwin.report.html import TOPOJSON_FILE
from supplytwin.sim.kpis import KPI_DOCS

__all__ = [
    "HEADLINE_KPIS", "JOBS", "KPI_DOCS", "TOPOJSON_FILE", "JobRunner", "Knobs", "UserError",
    "Workspace",
]
