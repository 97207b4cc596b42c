"""`python -m whyword` is the `whyword` command."""

import sys

from whyword.cli import main

sys.exit(main())
