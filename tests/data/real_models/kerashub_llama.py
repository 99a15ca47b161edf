"""keras_hub's Llama backbone from a tiny config (no preset, no download)."""
import keras_hub


def build_model():
    return keras_hub.models.LlamaBackbone(vocabulary_size=1000, num_layers=2, num_query_heads=4,
                                          num_key_value_heads=2, hidden_dim=64, intermediate_dim=128)
