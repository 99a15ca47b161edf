"""transformers BERT from a tiny config (no download)."""
from transformers import BertConfig, BertModel


def build_model():
    return BertModel(BertConfig(num_hidden_layers=2, hidden_size=128, intermediate_size=512, num_attention_heads=4,
                                vocab_size=1000))
