"""`python3 -m paas_testbed`: what hack/testbed runs."""

import sys

from .cli import main

sys.exit(main())
