"""Structural facts: containers that chain layers, and layers that pass a signal through unchanged in scale-relevant ways (dropout, pooling, reshaping),
so a layer followed by one of them is still paired with the activation after it."""

from .model import Framework

# qualified name -> (framework, how its layers are given): "args" (torch: Sequential(a, b)),
# "list" (Keras/Flax: Sequential([a, b])); all of them also grow by .add()/.append() calls
SEQUENTIALS = {
    "torch.nn.Sequential": (Framework.TORCH, "args"),
    "torch.nn.ModuleList": (Framework.TORCH, "list"),
    "keras.Sequential": (Framework.KERAS, "list"),
    "keras.models.Sequential": (Framework.KERAS, "list"),
    "flax.linen.Sequential": (Framework.JAX, "list"),
    "flax.nnx.Sequential": (Framework.JAX, "args"),
    "mxnet.gluon.nn.Sequential": (Framework.MXNET, "args"),
    "mxnet.gluon.nn.HybridSequential": (Framework.MXNET, "args"),
}

# final symbols of layers that do not end a layer's pairing with its activation
TRANSPARENT = frozenset({
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D",
    "Flatten", "Reshape", "Identity", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d",
    "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling2D", "MaxPool2D", "AvgPool2D",
    "GlobalAvgPool2D", "ZeroPad2d", "ZeroPadding2D",
    "Rearrange", "Reduce",  # einops' layers: a reshape, a pooling
})
TRANSPARENT_ROOTS = ("torch.nn.", "keras.layers.", "flax.linen.", "mxnet.gluon.nn.", "einops.layers.")
