"""madoguchi: a Japanese privacy-inquiry assistant on Rasa."""
