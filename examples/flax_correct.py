"""Correct Flax initialisation: initlint must report nothing in this file."""
from functools import partial
from typing import Sequence

import jax
import jax.numpy as jnp
import flax.linen as nn


class ResNetBlock(nn.Module):
    """As in flax/examples/imagenet: zero scale on the last norm of the branch."""
    filters: int
    strides: int = 1

    @nn.compact
    def __call__(self, x, train: bool = True):
        conv = partial(nn.Conv, use_bias=False, kernel_init=nn.initializers.he_normal())
        norm = partial(nn.BatchNorm, use_running_average=not train, momentum=0.9)
        residual = x
        y = conv(self.filters, (3, 3), (self.strides, self.strides))(x)
        y = norm()(y)
        y = nn.relu(y)
        y = conv(self.filters, (3, 3))(y)
        y = norm(scale_init=nn.initializers.zeros_init())(y)
        if residual.shape != y.shape:
            residual = conv(self.filters, (1, 1), (self.strides, self.strides))(residual)
            residual = norm()(residual)
        return nn.relu(residual + y)


class SmallResNet(nn.Module):
    widths: Sequence[int] = (32, 64, 128)
    num_classes: int = 10

    @nn.compact
    def __call__(self, x, train: bool = True):
        x = nn.Conv(self.widths[0], (3, 3), use_bias=False,
                    kernel_init=nn.initializers.variance_scaling(2.0, 'fan_in', 'truncated_normal'))(x)
        x = nn.BatchNorm(use_running_average=not train, scale_init=nn.initializers.ones)(x)
        x = nn.relu(x)
        for i, filters in enumerate(self.widths):
            x = ResNetBlock(filters, strides=1 if i == 0 else 2)(x, train)
        x = jnp.mean(x, axis=(1, 2))
        # Zero-initialised classifier head.
        return nn.Dense(self.num_classes, kernel_init=nn.initializers.zeros,
                        bias_init=nn.initializers.zeros)(x)


class LoRADense(nn.Module):
    """Frozen-style base kernel plus a low-rank update whose B starts at zero."""
    features: int
    rank: int = 8
    alpha: float = 16.0

    @nn.compact
    def __call__(self, x):
        base = nn.Dense(self.features, name='base')(x)
        lora_a = self.param('lora_a', nn.initializers.lecun_normal(), (x.shape[-1], self.rank))
        lora_b = self.param('lora_b', nn.initializers.zeros, (self.rank, self.features))
        return base + (x @ lora_a @ lora_b) * (self.alpha / self.rank)


class MlpBlock(nn.Module):
    """Transformer MLP: Xavier under GELU, LayerNorm scale of ones."""
    dim: int = 512
    hidden: int = 2048

    def setup(self):
        self.norm = nn.LayerNorm(scale_init=nn.initializers.ones, bias_init=nn.initializers.zeros)
        self.fc1 = nn.Dense(self.hidden, kernel_init=nn.initializers.xavier_uniform(),
                            bias_init=nn.initializers.zeros)
        self.fc2 = nn.Dense(self.dim, kernel_init=nn.initializers.xavier_uniform(),
                            bias_init=nn.initializers.zeros)

    def __call__(self, x):
        return x + self.fc2(nn.gelu(self.fc1(self.norm(x))))


def build_model(seed=0):
    model = SmallResNet()
    variables = model.init(jax.random.PRNGKey(seed), jnp.ones((2, 32, 32, 3)), train=False)
    return model, variables


def build_all(seed=0):
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    lora = LoRADense(256)
    mlp = MlpBlock()
    return [build_model(seed),
            (lora, lora.init(k1, jnp.ones((2, 256)))),
            (mlp, mlp.init(k2, jnp.ones((2, 16, 512))))]
