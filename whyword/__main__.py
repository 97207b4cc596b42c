"""`python -m whyword` is the `whyword` command."""

import sys

from whyword.cli.main import main

sys.exit(main())
