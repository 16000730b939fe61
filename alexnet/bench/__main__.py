"""``python -m alexnet.bench ...``: ``python -m alexnet bench ...`` without the other commands."""
import sys

from ..cli.bench import main

sys.exit(main())
