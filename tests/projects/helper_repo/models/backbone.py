"""A base class whose init method a subclass in models/classifier.py runs on its own ReLU layers."""
from torch import nn


class Backbone(nn.Module):
    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)  # expect: INI201 (models/classifier.py: class Classifier(Backbone) runs it on a ReLU MLP)
                nn.init.zeros_(m.bias)
