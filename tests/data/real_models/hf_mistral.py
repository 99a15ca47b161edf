"""transformers Mistral causal LM from a tiny config (no download)."""
from transformers import MistralConfig, MistralForCausalLM


def build_model():
    return MistralForCausalLM(MistralConfig(num_hidden_layers=2, hidden_size=128, intermediate_size=344,
                                            num_attention_heads=4, num_key_value_heads=2, vocab_size=1000,
                                            max_position_embeddings=128))
