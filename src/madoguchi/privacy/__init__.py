"""Where personal data lives: the inventory of every store that holds customer words
(`stores.py`) and the short-lived store of contact data on its way to a ticket
(`pending_contact.py`). README: "Where personal data may live"."""
