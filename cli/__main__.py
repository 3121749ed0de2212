"""`python -m cli …` runs `crm …`."""

import sys

from cli import main

sys.exit(main())
