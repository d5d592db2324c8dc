"""`mutmut` with this repository's second import root, `lambdas/` (see pyproject `pythonpath`).

mutmut names a mutant after its file's path (`lambdas/failover_coordinator/decision.py` ->
`lambdas.failover_coordinator.decision`) and activates it only where the function's `__module__`
equals that name. The tests import Lambda code as the Lambda runtime does
(`failover_coordinator.decision`), so every Lambda mutant would silently count as "no tests"
(mutmut issue #515). mutmut already drops the `src.` root this way; this drops `lambdas.` too.
Everything else is mutmut's own command line: `python scripts/mutmut_cli.py run|results|show ID`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mutmut.__main__ as mutmut_main
import mutmut.mutation.file_mutation as mutmut_file_mutation
from mutmut.utils import format_utils

LAMBDA_ROOT = "lambdas."
_path_derived_mutant_name = format_utils.get_mutant_name


def mutant_name_as_imported(relative_source_path: Path, mutant_method_name: str) -> str:
    """mutmut's path-derived mutant name, with the module named as the tests import it."""
    return _path_derived_mutant_name(relative_source_path, mutant_method_name).removeprefix(
        LAMBDA_ROOT
    )


# Each module that imported the function by name holds its own reference: replace all three.
format_utils.get_mutant_name = mutant_name_as_imported
mutmut_main.get_mutant_name = mutant_name_as_imported
mutmut_file_mutation.get_mutant_name = mutant_name_as_imported

if __name__ == "__main__":
    sys.exit(mutmut_main.cli())
