"""transformers CLIP (text and vision towers) from tiny configs (no download)."""
from transformers import CLIPConfig, CLIPModel


def build_model():
    text = dict(num_hidden_layers=2, hidden_size=64, intermediate_size=128, num_attention_heads=2, vocab_size=1000,
                max_position_embeddings=32, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    vision = dict(num_hidden_layers=2, hidden_size=64, intermediate_size=128, num_attention_heads=2, image_size=32,
                  patch_size=8)
    return CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=32))
