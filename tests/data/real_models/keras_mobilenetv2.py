"""keras.applications MobileNetV2 with random weights (weights=None: no download)."""
import keras


def build_model():
    return keras.applications.MobileNetV2(weights=None, input_shape=(64, 64, 3), classes=10)
