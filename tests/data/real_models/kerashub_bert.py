"""keras_hub's BERT backbone from a tiny config (no preset, no download)."""
import keras_hub


def build_model():
    return keras_hub.models.BertBackbone(vocabulary_size=1000, num_layers=2, num_heads=2, hidden_dim=64,
                                         intermediate_dim=128, max_sequence_length=64)
