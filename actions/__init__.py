"""Custom actions: thin rasa_sdk adapters around madoguchi's domain core (src/madoguchi)."""
