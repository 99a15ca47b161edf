from .gan import *
from .init import *
