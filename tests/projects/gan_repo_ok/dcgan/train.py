from dcgan.models import Generator
from dcgan.utils import weights_init

netG = Generator()
netG.apply(weights_init)
