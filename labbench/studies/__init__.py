"""Sweeps and ablations over run configs: the lecture's claims, run on the bench and judged.

- ``spec``: the study file (base, axes, measures, budget, seeds, claim, expectations)
- ``catalogue``: the studies shipped in ``resources/studies``
- ``plan``: one validated run config per cell and seed; the ETA
- ``measures``: what is measured after each run (k-NN, probes on h and z, fine-tune, DINO's entropy)
- ``runner``: the study folder, its runs one by one, resume, torchrun
- ``results``: ``results.jsonl`` and the per-cell summary
- ``verdict``: holds / does not hold here / too short to tell, against the noise
- ``table``: the result table for the terminal, the README and the window
"""

from labbench.studies.catalogue import load_study, study_names
from labbench.studies.plan import PlannedRun, estimate_seconds, plan_study
from labbench.studies.results import Cell, RunResult, read_results, summarize
from labbench.studies.runner import StudyRunner, create_study_folder, default_studies_root, open_study, runs_to_go
from labbench.studies.spec import Budget, Study
from labbench.studies.verdict import Verdict, judge

__all__ = [
    "Budget", "Cell", "PlannedRun", "RunResult", "Study", "StudyRunner", "Verdict", "create_study_folder",
    "default_studies_root", "estimate_seconds", "judge", "load_study", "open_study", "plan_study", "read_results",
    "runs_to_go", "study_names", "summarize",
]
