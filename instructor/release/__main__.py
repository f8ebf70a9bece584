"""``python -m instructor.release``: build the student release (see :mod:`instructor.release.build`)."""

import sys

from instructor.release.build import main

sys.exit(main())
