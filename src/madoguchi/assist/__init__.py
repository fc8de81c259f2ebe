"""Operator assist, the domain core: notice passages, canned replies and ticket summaries.

Nothing here imports Rasa or the web framework; the desk shows what these modules compute.
"""
