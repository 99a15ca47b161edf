"""transformers ViT image classifier from a tiny config (no download)."""
from transformers import ViTConfig, ViTForImageClassification


def build_model():
    return ViTForImageClassification(ViTConfig(num_hidden_layers=2, hidden_size=128, intermediate_size=512,
                                               num_attention_heads=4, image_size=64, patch_size=16, num_labels=10))
