"""`python -m replicator.cli`: how the installed services start the replicator."""

import sys

from replicator.cli import main

sys.exit(main())
