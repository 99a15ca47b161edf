"""transformers T5 encoder-decoder from a tiny config (no download)."""
from transformers import T5Config, T5ForConditionalGeneration


def build_model():
    return T5ForConditionalGeneration(T5Config(num_layers=2, num_decoder_layers=2, d_model=128, d_ff=256, d_kv=32,
                                               num_heads=4, vocab_size=1000))
