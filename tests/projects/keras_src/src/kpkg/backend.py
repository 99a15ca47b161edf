"""One place that picks the Keras the package uses."""
from tensorflow import keras  # noqa: F401
