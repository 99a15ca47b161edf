from models.net import Net
from models.relu_net import ReluNet
from utils.init import he_init, weights_init

net = Net()
net.apply(weights_init)
relu_net = ReluNet()
relu_net.apply(he_init)
