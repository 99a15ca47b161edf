"""keras.applications ConvNeXtTiny with random weights (weights=None: no download)."""
import keras


def build_model():
    return keras.applications.ConvNeXtTiny(weights=None, input_shape=(64, 64, 3), classes=10)
