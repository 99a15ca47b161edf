"""MXNet Gluon version of the textbook chapter "6.3 Parameter initialisation".

MLP: Dense(8, relu) on 4 inputs -> Dense(1).  ``in_units`` is given so the
fans are known without a forward pass.  Dense biases carry their own
``bias_initializer='zeros'``, so a global ``net.initialize(init=...)`` only
reaches the weights.
"""
from mxnet import init, np, npx
from mxnet.gluon import nn

npx.set_np()


def default_net():
    net = nn.Sequential()
    net.add(nn.Dense(8, activation='relu', in_units=4))
    net.add(nn.Dense(1, in_units=8))
    net.initialize()  # Use the default initialization method
    return net


# 6.3.1 Built-in initialisation: N(0, 0.01^2) weights, zero bias.
def normal_net():
    net = nn.Sequential()
    net.add(nn.Dense(8, activation='relu', in_units=4))
    net.add(nn.Dense(1, in_units=8))
    net.initialize(init=init.Normal(sigma=0.01))  # expect: INI403
    return net


# All weights set to the constant 1.
def constant_net():
    net = nn.Sequential()
    net.add(nn.Dense(8, activation='relu', in_units=4))
    net.add(nn.Dense(1, in_units=8))
    net.initialize(init=init.Constant(1))  # expect: INI301
    return net


# Xavier on the first layer, the constant 42 on the second.
def xavier_42_net():
    net = nn.Sequential()
    net.add(nn.Dense(8, activation='relu', in_units=4))
    net.add(nn.Dense(1, in_units=8))
    net.initialize()
    # force_reinit: the parameters were already initialised above.
    net[0].weight.initialize(init=init.Xavier(), force_reinit=True)  # expect: INI201
    net[1].initialize(init=init.Constant(42), force_reinit=True)  # expect: INI403
    return net


# 6.3.1.1 Custom initialisation: U(-10, 10), then zero where |w| < 5.
class MyInit(init.Initializer):
    def _init_weight(self, name, data):
        print('Init', name, data.shape)
        data[:] = np.random.uniform(-10, 10, data.shape)  # expect: INI403
        data *= np.abs(data) >= 5


def custom_net():
    net = nn.Sequential()
    net.add(nn.Dense(8, activation='relu', in_units=4))
    net.add(nn.Dense(1, in_units=8))
    net.initialize(MyInit(), force_reinit=True)
    # Parameters can always be set directly, too.
    net[0].weight.data()[:] += 1
    net[0].weight.data()[0, 0] = 42
    return net


def build_model():
    """The chapter's Xavier / constant-42 configuration."""
    return xavier_42_net()


if __name__ == "__main__":
    X = np.random.uniform(size=(2, 4))
    for build in (default_net, normal_net, constant_net, xavier_42_net, custom_net):
        net = build()
        print(build.__name__, net(X).shape, net[0].weight.data()[0])
