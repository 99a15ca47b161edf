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
    inside a loop while the initialiser was created outside it. The instance is followed through
    the file: stored on `self` in `__init__`/`build` and used in another method, passed as an
    argument, returned by a helper; a default argument (`def block(x, init=GlorotUniform(seed=0))`)
    or a module-level instance used in a function the file calls several times is one instance for
    every call. Reported where the instance is created.

    The same bug in raw TF: one initializer object called by hand for the initial values of several
    variables (`tf.Variable(init(shape=(3, 4)))`), or given to several `tf.get_variable`/`add_weight`
    calls, where TensorFlow really repeats the numbers: a Keras instance always; a TF2
    `tf.random_normal_initializer` (or other `init_ops_v2` initializer) with a seed; a seeded TF1
    initializer (`tf.truncated_normal_initializer(seed=1)`, `tf.contrib.layers.xavier_initializer(seed=1)`)
    in graph-mode code, for variables of the same shape. Unseeded TF initializers draw fresh numbers
    on every call and are not flagged.

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
    TensorFlow/Keras (Keras 3, tf.keras >= 2.10, TF2 and TF1 initializers).

    ## References
    - Keras 3 `keras/src/initializers/random_initializers.py`: `RandomInitializer.__init__` draws
      `seed = random.make_default_seed()` when `seed` is None.
    - TF 2.21 `tensorflow/python/ops/init_ops_v2.py`: `_RandomGenerator` uses stateless ops when
      seeded. Measured there: two calls of one instance give equal values for Keras instances (seeded
      or not) and seeded TF2 initializers; seeded TF1 initializers give equal values in graph mode
      (two `get_variable`s) and different ones in eager mode.
    """

    code = "INI303"
    name = "shared-keras-initializer"
    message = ("{init} instance is shared by {where}: Keras initialisers are deterministic per instance, so "
               "same-shaped layers start identical; create one per layer or pass a string name")
    frameworks = ("keras",)

    def check(self, facts):
        sites = {site.node: site for site in facts.collected.calls}
        reported = set()
        for use in facts.init_uses:
            entry = use.entry
            if use.via != "factory" or entry is None or entry.framework is not Framework.KERAS \
                    or not canonical(entry.name).startswith("keras.initializers.") \
                    or entry.family in (Family.CONSTANT, Family.IDENTITY):
                continue  # deterministic by design: sharing Zeros/Ones/Constant/Identity changes nothing
            if _seeded_by_generator(facts, use):
                continue  # a SeedGenerator advances on every call: each layer gets its own draw
            if use.variant_of is not None:
                continue  # one call's view of an instance made elsewhere: the instance is judged itself
            if use.per_call:
                continue  # def he(): return HeNormal(): every call of the helper makes a new one
            layers = list({id(t.layer): t.layer for t in use.targets if t.layer is not None}.values())
            if len(layers) >= 2:
                where = ", ".join(layer_label(layer) for layer in layers[:3]) + (" ..." if len(layers) > 3 else "")
                yield Report(use.node, {"init": entry.name.rsplit(".", 1)[-1], "where": f"{len(layers)} layers ({where})"},
                             "keras")
                reported.add(use.node)
                continue
            shared_default = _default_shared_by_calls(facts, use, layers)
            if shared_default is not None:
                yield Report(use.node, {"init": entry.name.rsplit(".", 1)[-1], "where": shared_default}, "keras")
                continue
            across = _built_by_several_calls(facts, use, layers, sites)
            if across is not None:
                yield Report(use.node, {"init": entry.name.rsplit(".", 1)[-1], "where": across}, "keras")
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
                    reported.add(use.node)
                    break
        yield from _direct_reuse(facts, sites, reported)

    def format(self, report: Report) -> str:
        return (_RAW_MESSAGE if "why" in report.fields else self.message).format(**report.fields)


# -- the same bug in raw TF: one initializer object called for several variables ------------------
#
# Measured on TF 2.21 / Keras 3.15 (tests/test_catalogue_reality.py holds it): a Keras initializer
# instance returns the same values on every call, seeded or not (for another shape: the same leading
# values, scaled by the fans); TF2's tf.*_initializer / init_ops_v2 repeat only when seeded (they use
# stateless ops then); TF1 initializers (tf.compat.v1.*, tf.contrib.layers.*) repeat only in graph
# mode, where every op built with the same seed draws the same numbers, and not in eager mode.

_RAW_MESSAGE = "{init} instance is called for {where}: {why}; create one per variable"
_WHY = {
    "keras": "a Keras initializer returns the same values on every call, seeded or not",
    "seeded": "a seeded TF2 initializer is stateless, so every call returns the same values",
    "graph": "in TF1 graph mode every op built with the same seed draws the same numbers",
}
_TF2_SEEDED = ("tf.python.ops.init_ops_v2.", "tf.random_normal_initializer", "tf.random_uniform_initializer",
               "tf.initializers.truncated_normal")
_TF1 = ("tf.compat.v1.", "tf.python.ops.init_ops.", "tf.contrib.", "tf.truncated_normal_initializer",
        "tf.variance_scaling_initializer", "tf.glorot_uniform_initializer", "tf.glorot_normal_initializer",
        "tf.orthogonal_initializer", "tf.uniform_unit_scaling_initializer")
# calls only graph-mode code makes: TF1's own spellings, sessions, placeholders, eager switched off
_GRAPH_MODE = frozenset({"tf.get_variable", "tf.Session", "tf.InteractiveSession", "tf.placeholder",
                         "tf.compat.v1.Session", "tf.compat.v1.InteractiveSession", "tf.compat.v1.placeholder",
                         "tf.compat.v1.disable_eager_execution", "tf.compat.v1.disable_v2_behavior"})


def _why_values_repeat(facts, use):
    """Why every call of this initializer object returns the same numbers, or None when they differ."""
    name = canonical(use.entry.name)
    if use.entry.family in (Family.CONSTANT, Family.IDENTITY):
        return None
    if name.startswith("keras.initializers."):
        return None if _seeded_by_generator(facts, use) else "keras"
    seed = facts.value(use.args.get("seed"))
    if not isinstance(seed, int) or isinstance(seed, bool):
        return None  # unseeded (or unknown): TF draws fresh numbers on each call
    if name.startswith(_TF2_SEEDED):
        return "seeded"
    if name.startswith(_TF1) and _graph_mode(facts):
        return "graph"
    return None


def _graph_mode(facts) -> bool:
    return any(canonical(n) in _GRAPH_MODE for site in facts.collected.calls for n in facts.names(site.node.func))


def _direct_reuse(facts, sites, reported):
    """Reports for initializer objects called (or given to get_variable/add_weight) more than once,
    and for seeded TF2 initializers given to several layers (Keras calls them like any callable)."""
    inits = facts.inits
    for use in facts.init_uses:
        if use.via != "factory" or use.entry is None or use.entry.framework is not Framework.KERAS \
                or use.node in reported:
            continue  # Keras instances shared by layers are reported above
        calls = inits.direct_calls.get(use, []) + inits.raw_sites.get(use, [])
        # layers given the object by a keyword (not the pseudo layers of raw products: those are calls)
        layers = {id(t.layer) for t in use.targets if t.layer is not None and t.layer.entry.weight_init_kwarg
                  and t.layer.entry.weight_init_kwarg in t.layer.args}
        why = _why_values_repeat(facts, use)
        if why is None or not (calls or (why == "seeded" and layers)):
            continue
        shapes = [facts.value(shape) for _, shape in calls]
        known = [s for s in shapes if isinstance(s, (tuple, list))]
        created = sites.get(use.node)
        looped = created is not None and any(
            site is not None and any(loop not in set(created.loops) for loop in site.loops)
            for site in (sites.get(call) for call, _ in calls))
        if why == "graph" or use.entry.family is Family.ORTHOGONAL:
            # verified for equal shapes only: ask the code to show two
            repeated = any(known.count(s) > 1 for s in known)
        else:
            repeated = len(calls) + len(layers) >= 2 or looped
        if not repeated:
            continue
        what = f"{len(calls) + len(layers)} variables" if not looped else "every variable created in a loop"
        yield Report(use.node, {"init": use.entry.name.rsplit(".", 1)[-1], "where": what, "why": _WHY[why]},
                     "keras")


def _seeded_by_generator(facts, use) -> bool:
    seed = use.args.get("seed")
    if isinstance(seed, cst.Name):
        values = facts.collected.resolver.assigned_values(seed)
        seed = values[0][0] if len(values) == 1 else seed
    # keras.random.SeedGenerator, also reached as keras.src.backend.random.SeedGenerator
    return isinstance(seed, cst.Call) and any(canonical(n).startswith("keras.") and n.endswith(".SeedGenerator")
                                              for n in facts.names(seed.func))


def _default_shared_by_calls(facts, use, layers):
    """A default argument (``def block(x, init=GlorotUniform(seed=0))``) is evaluated once, when the
    ``def`` runs: every call that omits it builds its layer with that one instance."""
    if len(layers) != 1:
        return None
    for function, _scope in facts.collected.functions:
        params = function.params
        defaults = [p for p in (*params.posonly_params, *params.params, *params.kwonly_params) if p.default is use.node]
        if not defaults:
            continue
        sites = facts.flow.call_sites(function)
        if not sites:
            return None
        keyword = defaults[0].name.value
        omitting = [site for site in sites if _omits(function, site.node, defaults[0], keyword)]
        if len(omitting) >= 2 or any(site.loops for site in omitting):
            loop = ", one in a loop" if any(s.loops for s in omitting) else ""
            return (f"every call of {function.name.value}() that omits `{keyword}` ({len(omitting)} in this "
                    f"file{loop}, each building a {layer_label(layers[0])}; a default is created once, by the def)")
    return None


def _omits(function, call, param, keyword) -> bool:
    if any(a.star for a in call.args):
        return False
    if any(a.keyword is not None and a.keyword.value == keyword for a in call.args):
        return False
    positional = [*function.params.posonly_params, *function.params.params]
    if param in positional:
        given = len([a for a in call.args if a.keyword is None])
        skip = 1 if isinstance(call.func, cst.Attribute) else 0  # self.block(...): self is not written
        return given + skip <= positional.index(param)
    return True


def _function_of(scope):
    while scope is not None:
        if isinstance(scope.node, cst.FunctionDef):
            return scope.node
        scope = scope.parent
    return None


def _built_by_several_calls(facts, use, layers, sites):
    """One layer, built in a function the file calls several times, with an instance that comes from
    outside it: a module-level or ``self`` instance, or the same instance passed by several calls."""
    if len(layers) != 1:
        return None
    layer = layers[0]
    built, created = sites.get(layer.node), sites.get(use.node)
    fn = _function_of(built.scope) if built is not None else None
    if fn is None or created is None:
        return None
    scope = created.scope
    while scope is not None:
        if scope.node is fn:
            return None  # made by the function itself, on every call (or its default: see above)
        scope = scope.parent
    calls = facts.flow.call_sites(fn)
    if not calls:
        return None
    route = _parameter_route(facts, fn, layer)
    maker = _function_of(created.scope)
    if route is None and maker is not None and facts.flow.class_of_method(maker) is not None:
        return None  # self.init made in __init__: each object has its own, whichever calls build it
    if route is not None:  # def conv(n, init): ... passed in: count the calls that pass this one
        arguments = facts.flow.parameter_arguments(route) or []
        calls = [a.site for a in arguments if a.site is not None
                 and use in facts.inits.initializer_value(a.value, use.framework)]
    if len(calls) >= 2 or any(site.loops for site in calls):
        times = f"{len(calls)} calls" if len(calls) >= 2 else "a call in a loop"
        return f"every {layer_label(layer)} built by {fn.name.value}() ({times} in this file)"
    return None


def _parameter_route(facts, fn, layer):
    """The parameter of ``fn`` the layer's initialiser argument names, if it is one."""
    for kwarg in (layer.entry.weight_init_kwarg, layer.entry.bias_init_kwarg):
        node = layer.args.get(kwarg) if kwarg else None
        if isinstance(node, cst.Name):
            for binding in facts.collected.resolver.lookup(node):
                if binding.kind == "param" and binding.scope is not None and binding.scope.node is fn:
                    return binding
    return None
