"""Profiles turns when MADOGUCHI_TURN_PROFILE names a directory (bench/turn.py sets it).

Python imports `sitecustomize` at start-up from the PYTHONPATH the bench gives `rasa run` and
`rasa run actions`; without the variable this does nothing. MADOGUCHI_TURN_PROFILE_ROLE says
which server this is (`rasa` or `actions`), MADOGUCHI_TURN_PROFILE_ROOT where `bench` lives.
"""

import os
import sys

if os.environ.get("MADOGUCHI_TURN_PROFILE"):
    from pathlib import Path

    sys.path.append(os.environ["MADOGUCHI_TURN_PROFILE_ROOT"])
    from bench.profiling import hooks

    hooks.install(os.environ.get("MADOGUCHI_TURN_PROFILE_ROLE", "rasa"),
                  Path(os.environ["MADOGUCHI_TURN_PROFILE"]))
