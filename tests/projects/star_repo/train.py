from models import *

generator = Generator()
generator.apply(weights_init_normal)
