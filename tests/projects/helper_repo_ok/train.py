from models.generator import Generator
from utils.init import init_net

netG = init_net(Generator())
netD = init_net(Generator(), "normal", 0.02)
