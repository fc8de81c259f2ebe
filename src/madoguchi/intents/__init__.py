"""Which intent a customer's message expresses: features, the model, its clause-by-clause reading.

Domain core: no Rasa imports; `madoguchi.rasa_adapters.nlu.intent_classifier` adapts it to Rasa.
"""

from madoguchi.intents.features import KINDS, Featurizer, Stretch
from madoguchi.intents.model import IntentModel, ModelConfig

__all__ = ["KINDS", "Featurizer", "IntentModel", "ModelConfig", "Stretch"]
