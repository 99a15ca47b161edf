from __future__ import annotations

import libcst as cst

from ..analysis.describe import layer_label
from ..catalogue import Family, Framework
from ..catalogue.names import canonical
from ..rule import Report, Rule


class SharedKerasInitializer(Rule):
    """One Keras initialiser instance passed to several layers.

    ## What it does
    Flags a Keras initialiser object (`keras.initializers.HeNormal()`, `GlorotUniform(seed=0)`,
    `tf.keras.initializers.*`) that the code passes to more than one layer, or to a layer built
    inside a loop while the initialiser was created outside it. Reported where the instance is
    created.

    ## Why is this bad?
    In Keras 3 every initialiser instance is deterministic: with `seed=None` it draws one seed when
    it is constructed and reuses it on every call. Two same-shaped layers built with the same
    instance therefore start with *identical* weights, so their units never diverge; Keras gives no
    warning. tf.keras 2.10+ behaves the same way (it warns only for unseeded reuse). A string name
    or a fresh instance per layer gets a fresh seed each time.

    ## Example
    ```python
    import keras

    init = keras.initializers.HeNormal()
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu", kernel_initializer=init),
        keras.layers.Dense(64, activation="relu", kernel_initializer=init),
    ])
    ```

    ## Use instead
    ```python
    import keras

    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
        keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
    ])
    ```

    ## Frameworks
    TensorFlow/Keras (Keras 3, tf.keras >= 2.10).

    ## References
    - Keras 3 `keras/src/initializers/random_initializers.py`: `RandomInitializer.__init__` draws
      `seed = random.make_default_seed()` when `seed` is None.
    """

    code = "INI303"
    name = "shared-keras-initializer"
    message = ("{init} instance is shared by {where}: Keras initialisers are deterministic per instance, so "
               "same-shaped layers start identical; create one per layer or pass a string name")
    frameworks = ("keras",)

    def check(self, facts):
        sites = {site.node: site for site in facts.collected.calls}
        for use in facts.init_uses:
            entry = use.entry
            if use.via != "factory" or entry is None or entry.framework is not Framework.KERAS \
                    or not canonical(entry.name).startswith("keras.initializers.") \
                    or entry.family in (Family.CONSTANT, Family.IDENTITY):
                continue  # deterministic by design: sharing Zeros/Ones/Constant/Identity changes nothing
            if _seeded_by_generator(facts, use):
                continue  # a SeedGenerator advances on every call: each layer gets its own draw
            layers = list({id(t.layer): t.layer for t in use.targets if t.layer is not None}.values())
            if len(layers) >= 2:
                where = ", ".join(layer_label(layer) for layer in layers[:3]) + (" ..." if len(layers) > 3 else "")
                yield Report(use.node, {"init": entry.name.rsplit(".", 1)[-1], "where": f"{len(layers)} layers ({where})"},
                             "keras")
                continue
            created = sites.get(use.node)
            for layer in layers:
                built = sites.get(layer.node)
                if created is None or built is None:
                    continue
                outer = set(created.loops)
                if any(loop not in outer for loop in built.loops):
                    yield Report(use.node, {"init": entry.name.rsplit(".", 1)[-1],
                                            "where": f"every {layer_label(layer)} built in a loop"}, "keras")
                    break


def _seeded_by_generator(facts, use) -> bool:
    seed = use.args.get("seed")
    if isinstance(seed, cst.Name):
        values = facts.collected.resolver.assigned_values(seed)
        seed = values[0][0] if len(values) == 1 else seed
    return isinstance(seed, cst.Call) and any(canonical(n) == "keras.random.SeedGenerator"
                                              for n in facts.names(seed.func))
