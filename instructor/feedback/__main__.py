"""``python -m instructor.feedback``: re-render the feedback pages and the CSV (see :mod:`.pages`)."""

import sys

from instructor.feedback.pages import main

sys.exit(main())
