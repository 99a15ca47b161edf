from __future__ import annotations

from ..analysis.describe import layer_label
from ..analysis.queries import stored_in_out
from ..catalogue import LayerKind
from ..catalogue.model import KaimingLaw
from ..rule import Report, Rule


class FansFromWrongAxes(Rule):
    """A fan-based torch init that reads fan-in and fan-out from the wrong axes.

    ## What it does
    Flags `kaiming_uniform_`/`kaiming_normal_` (whose scale depends on which fan they read) on
    - a parameter the code stores as `[in, out]`: created by hand and used as `x @ W` (untransposed,
      not through `F.linear`), although torch reads fan-in from dimension 1, i.e. `out` here;
    - a `ConvTranspose` weight with `mode='fan_in'` (the default): its weight is stored
      `[in, out/groups, k...]`, so torch's "fan_in" is `out_channels·k`, not the
      `in_channels·k` the forward pass sums over.

    ## Why is this bad?
    The scale is computed from the wrong dimension, so the layer starts with std `sqrt(out/in)`
    times what was intended: for a 1024 -> 256 projection that is half (or double) the He scale,
    silently. Xavier and orthogonal are symmetric in the two fans and are not flagged.

    ## Example
    ```python
    import torch
    from torch import nn

    class Projection(nn.Module):
        def __init__(self, d_in, d_out):
            super().__init__()
            self.W = nn.Parameter(torch.empty(d_in, d_out))
            nn.init.kaiming_uniform_(self.W, nonlinearity="relu")

        def forward(self, x):
            return x @ self.W
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn

    class Projection(nn.Module):
        def __init__(self, d_in, d_out):
            super().__init__()
            self.W = nn.Parameter(torch.empty(d_in, d_out))
            nn.init.kaiming_uniform_(self.W, mode="fan_out", nonlinearity="relu")

        def forward(self, x):
            return x @ self.W
    ```

    ## Frameworks
    PyTorch.
    """

    code = "INI404"
    name = "fans-from-wrong-axes"
    message = "{init}(mode={mode!r}) on {what}: {why}; pass mode={fix!r}"
    frameworks = ("torch",)

    def check(self, facts):
        in_out = None
        for use in facts.init_uses:
            if use.entry is None or not isinstance(use.entry.law, KaimingLaw) or not use.targets:
                continue
            mode = use.values(facts.evaluator).get("mode")
            if mode != "fan_in":  # mode='fan_out' reads dimension 0: right for both layouts below
                continue
            flip = "fan_out"
            for target in use.targets:
                if target.layer is not None and target.kind is LayerKind.CONV_TRANSPOSE and target.is_weight():
                    yield Report(use.node, {
                        "init": use.entry.name.rsplit(".", 1)[-1], "mode": mode, "fix": flip,
                        "what": f"the weight of {layer_label(target.layer)}",
                        "why": "torch reads its [in, out/groups, k...] weight as [out, in, k...], so 'fan_in' "
                               "is out_channels*k, not the in_channels*k the forward pass sums over"},
                        "torch")
                    break
                if target.layer is None and target.entry is None and target.ndim == 2 and target.param:
                    in_out = stored_in_out(facts) if in_out is None else in_out
                    if ("attr", target.param) in in_out:
                        yield Report(use.node, {
                            "init": use.entry.name.rsplit(".", 1)[-1], "mode": mode, "fix": flip,
                            "what": f"{target.param}, used as x @ {target.param} (stored [in, out])",
                            "why": "torch reads fan_in from dimension 1, which is `out` here"}, "torch")
                        break
