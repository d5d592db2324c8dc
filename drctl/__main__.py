"""`python -m drctl ...` (see `drctl.cli`)."""

import sys

from drctl.cli import main

sys.exit(main())
