"""``python -m cti_middleware.bench [names...]``."""

import sys

from .runner import main

sys.exit(main())
