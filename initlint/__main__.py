"""``python -m initlint`` is ``initlint``."""

import sys

from .cli import main

sys.exit(main())
