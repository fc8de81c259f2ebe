"""Turn profiling for `make bench BENCH=turn`, without changing product code.

The bench starts `rasa run` and `rasa run actions` with `site/` on PYTHONPATH: its
`sitecustomize` installs `hooks` when MADOGUCHI_TURN_PROFILE names a directory, and each process
then writes one JSON line per HTTP turn (`spans.Turn`) into it. Without the variable nothing is
imported and nothing is wrapped.
"""
