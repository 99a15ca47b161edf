from models.generator import Generator
from utils.init import init_net

netG = Generator()
init_net(netG)
