"""transformers Whisper speech model from a tiny config (no download)."""
from transformers import WhisperConfig, WhisperModel


def build_model():
    return WhisperModel(WhisperConfig(encoder_layers=2, decoder_layers=2, d_model=64, encoder_attention_heads=2,
                                      decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128,
                                      num_mel_bins=16, max_source_positions=32, max_target_positions=32,
                                      vocab_size=1000, pad_token_id=1, bos_token_id=0, eos_token_id=0,
                                      decoder_start_token_id=0))
