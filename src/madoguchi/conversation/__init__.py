"""A conversation as Rasa stores it, read in one place: its events (`events`), the `events`
table they live in (`table`) and the transcript the desk and the review show (`transcript`).

Domain core: imports nothing from Rasa or FastAPI; callers hand it plain event dicts or rows.
"""
