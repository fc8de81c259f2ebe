"""Supervisors' review of the conversation logs: a read model of Rasa's tracker store
(`projector`), list filters, masked transcripts, figures, export and retention.

Domain core: imports nothing from Rasa; the desk (`desk/review_*.py`) and the CLI are its
adapters.
"""
