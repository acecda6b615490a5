"""`python -m harness` is the same as the `b4a` command."""
import sys

from harness.cli import main

sys.exit(main())
