"""transformers ResNet from a small config (no download), written as `import transformers` alone: the
library imports torch only when the model class is first used, inside build_model()."""
import transformers


def build_model():
    config = transformers.ResNetConfig(embedding_size=32, hidden_sizes=[64, 128, 256], depths=[1, 2, 1])
    return transformers.ResNetModel(config)
