class PushMixin:
    """A mixin without layers, as the hub mixins of model libraries are."""

    def push(self, repo):
        self.repo = repo
        self.pushed = {name: True for name in ("config", "weights")}
