"""A decoder-only language model in the shape of flax's lm1b example (token embedding with the default embed
init, learned position embeddings, pre-norm self-attention blocks, an MLP with xavier_uniform kernels and
normal(1e-6) biases, a logit head shared with the embedding)."""
import flax.linen as nn
import jax.numpy as jnp


class MlpBlock(nn.Module):
    mlp_dim: int

    @nn.compact
    def __call__(self, inputs):
        dim = inputs.shape[-1]
        x = nn.Dense(self.mlp_dim, kernel_init=nn.initializers.xavier_uniform(),
                     bias_init=nn.initializers.normal(stddev=1e-6))(inputs)
        x = nn.relu(x)
        return nn.Dense(dim, kernel_init=nn.initializers.xavier_uniform(),
                        bias_init=nn.initializers.normal(stddev=1e-6))(x)


class DecoderBlock(nn.Module):
    num_heads: int
    mlp_dim: int

    @nn.compact
    def __call__(self, inputs):
        x = nn.LayerNorm()(inputs)
        x = nn.SelfAttention(num_heads=self.num_heads, kernel_init=nn.initializers.xavier_uniform(),
                             bias_init=nn.initializers.normal(stddev=1e-6), deterministic=True)(x)
        x = x + inputs
        y = nn.LayerNorm()(x)
        return x + MlpBlock(self.mlp_dim)(y)


class TransformerLM(nn.Module):
    vocab_size: int = 1000
    emb_dim: int = 64
    num_heads: int = 4
    num_layers: int = 2
    mlp_dim: int = 128
    max_len: int = 64

    @nn.compact
    def __call__(self, tokens):
        embed = nn.Embed(self.vocab_size, self.emb_dim, embedding_init=nn.initializers.normal(stddev=1.0))
        x = embed(tokens.astype(jnp.int32))
        pos = self.param("pos_embedding", nn.initializers.normal(stddev=0.02), (1, self.max_len, self.emb_dim))
        x = x + pos[:, : x.shape[1]]
        for _ in range(self.num_layers):
            x = DecoderBlock(self.num_heads, self.mlp_dim)(x)
        x = nn.LayerNorm()(x)
        return embed.attend(x) / jnp.sqrt(x.shape[-1])


def build_model():
    return TransformerLM()


INPUT_SHAPE = (2, 16)
