import sys

from quotebot.cli import main

sys.exit(main())
