"""transformers DETR object detector with a ResNet backbone built from config (no timm, no download)."""
from transformers import DetrConfig, DetrForObjectDetection, ResNetConfig


def build_model():
    backbone = ResNetConfig(embedding_size=16, hidden_sizes=[32, 64], depths=[1, 1], layer_type="basic",
                            out_features=["stage2"])
    return DetrForObjectDetection(DetrConfig(use_timm_backbone=False, use_pretrained_backbone=False,
                                             backbone_config=backbone, d_model=64, encoder_layers=2,
                                             decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
                                             encoder_ffn_dim=128, decoder_ffn_dim=128, num_queries=10))
