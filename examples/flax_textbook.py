"""JAX/Flax version of the textbook chapter "6.3 Parameter initialisation".

MLP: Dense(8) -> relu -> Dense(1).  Flax infers the input size at ``init``
time; ``build_model()`` returns the module and ``init_params`` initialises it
on the chapter's (2, 4) input.
"""
import jax
from jax import numpy as jnp
from flax import linen as nn


def default_net():
    return nn.Sequential([nn.Dense(8), nn.relu, nn.Dense(1)])  # expect: INI204


# 6.3.1 Built-in initialisation: N(0, 0.01^2) kernels, zero bias.
def normal_net():
    # std 0.01 is 70x below He for the first Dense, but Flax infers its fan-in from the input, which
    # this code does not show; on the 8 -> 1 output layer a small std is a deliberate head init.
    # So no static finding here: `initlint verify` measures it.
    weight_init = nn.initializers.normal(0.01)
    bias_init = nn.initializers.zeros
    return nn.Sequential([nn.Dense(8, kernel_init=weight_init, bias_init=bias_init),
                          nn.relu,
                          nn.Dense(1, kernel_init=weight_init, bias_init=bias_init)])


# All kernels set to the constant 1.
def constant_net():
    weight_init = nn.initializers.constant(1)  # expect: INI301
    bias_init = nn.initializers.zeros
    return nn.Sequential([nn.Dense(8, kernel_init=weight_init, bias_init=bias_init),
                          nn.relu,
                          nn.Dense(1, kernel_init=weight_init, bias_init=bias_init)])


# Xavier on the first layer, the constant 42 on the second.
def xavier_42_net():
    bias_init = nn.initializers.zeros
    return nn.Sequential([nn.Dense(8, kernel_init=nn.initializers.xavier_uniform(),  # expect: INI201
                                   bias_init=bias_init),
                          nn.relu,
                          nn.Dense(1, kernel_init=nn.initializers.constant(42),  # expect: INI403
                                   bias_init=bias_init)])


# 6.3.1.1 Custom initialisation: U(-10, 10), then zero where |w| < 5.
# (No INI403 here: only layer 0 gets it, and its fan-in is not in the code.)
def my_init(key, shape, dtype=jnp.float_):
    data = jax.random.uniform(key, shape, minval=-10, maxval=10)
    return data * (jnp.abs(data) >= 5)


def custom_net():
    return nn.Sequential([nn.Dense(8, kernel_init=my_init), nn.relu, nn.Dense(1)])


def build_model():
    """The chapter's Xavier / constant-42 configuration."""
    return xavier_42_net()


def init_params(net, seed=0):
    X = jax.random.uniform(jax.random.PRNGKey(seed), (2, 4))
    return net.init(jax.random.PRNGKey(seed + 1), X)


if __name__ == "__main__":
    for build in (default_net, normal_net, constant_net, xavier_42_net, custom_net):
        params = init_params(build())
        print(build.__name__, params['params']['layers_0']['kernel'][:, 0])
