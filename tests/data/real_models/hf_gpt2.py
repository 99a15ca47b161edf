"""transformers GPT-2 language model from a tiny config (no download)."""
from transformers import GPT2Config, GPT2LMHeadModel


def build_model():
    return GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=128, n_head=4, vocab_size=1000, n_positions=128,
                                      bos_token_id=0, eos_token_id=0))
