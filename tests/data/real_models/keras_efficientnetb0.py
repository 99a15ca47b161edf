"""keras.applications EfficientNetB0 with random weights (weights=None: no download)."""
import keras


def build_model():
    return keras.applications.EfficientNetB0(weights=None, input_shape=(64, 64, 3), classes=10)
