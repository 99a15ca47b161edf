"""Base classes whose init methods subclasses of other modules run on their own layers, through
classes between them (pkg/mid.py), an import under another name (pkg/alias.py) and super()."""
from torch import nn


class Base(nn.Module):
    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)  # expect: INI201 (pkg/net.py: Net(Middle), Middle(Base) in pkg/mid.py)


class AliasBase(nn.Module):
    def reset_parameters(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)  # expect: INI201 (pkg/alias.py imports it as Backbone)


class SiblingBase(nn.Module):
    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)  # expect: INI201 (pkg/mid.py: Leaf(Sibling), both there)


class SuperBase(nn.Module):
    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)  # expect: INI201 (pkg/mid.py's Refined runs it with super())


class OverBase(nn.Module):
    """pkg/mid.py's Over defines its own init_weights: this one never runs on Over's subclasses."""

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)


class Quiet(nn.Module):
    """pkg/lookalike.py has a class of the same name with a method of the same name: not this one."""

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)


class GuardedBase(nn.Module):
    """pkg/external.py's subclass puts an installed library's class first among its bases, which may
    define init_weights itself: which one runs is not known."""

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)


class ChainBase(nn.Module):
    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)  # expect: INI201 (pkg/alias.py's Chained: its own init_weights calls super())
