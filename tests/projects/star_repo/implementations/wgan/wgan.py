# run as `python wgan.py` from this folder: `models` is the models.py beside it
from models import *

critic = Critic()
critic.apply(weights_init_normal)
